// File helpers that return values instead of throwing.
#pragma once

#include <string>

#include "util/status.h"

namespace pipeline {

Result<std::string> ReadFile(const std::string& path);
// Whether WriteFileAtomic waits for the disk. Without the fsync the write is
// still atomic for readers and survives a crash of the process (kill -9), but
// not of the machine; an fsync costs ~8 ms on an ordinary disk.
enum class FileSync { kFsync, kNoFsync };

// Write to path.tmp, fsync (unless kNoFsync), rename over path: readers see
// the old or the new file, never a torn one.
Status WriteFileAtomic(const std::string& path, const std::string& content, FileSync sync = FileSync::kFsync);
// mkdir -p; mode for created directories.
Status MakeDirs(const std::string& path, int mode = 0755);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);
// Absolute form of path against the process cwd (no symlink resolution).
std::string AbsolutePath(const std::string& path);
// Remove a file or directory tree; missing is fine.
Status RemoveAll(const std::string& path);
// The path of the running executable (/proc/self/exe).
std::string SelfExePath();

}  // namespace pipeline
