// The scripted agent's edits: small operations on files that are applied to
// whatever the checkout holds now, so the same change can be applied again on
// a newer base (after a merge conflict) and still land in the right place.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline::demo {

struct FileOp {
  enum class Kind {
    kWrite,            // path := text (creates directories)
    kAppend,           // text appended to path (created when missing); skipped if already there
    kInsertAfterLast,  // text inserted as lines after the last line starting with `anchor`
    kReplace,          // the first `anchor` in path becomes text; kNotFound when absent
  };
  Kind kind = Kind::kWrite;
  std::string path;    // relative to the checkout
  std::string text;
  std::string anchor;  // kInsertAfterLast: a line prefix; kReplace: the text replaced
};

FileOp WriteOp(std::string path, std::string text);
FileOp AppendOp(std::string path, std::string text);
FileOp InsertAfterLastOp(std::string path, std::string anchor, std::string text);
FileOp ReplaceOp(std::string path, std::string old_text, std::string new_text);

// The result of applying op to content (the file's text, empty when missing).
Result<std::string> ApplyOpToText(const FileOp& op, const std::string& content);
// Applies ops in order under dir. Stops at the first error.
Status ApplyOps(const std::string& dir, const std::vector<FileOp>& ops);

}  // namespace pipeline::demo
