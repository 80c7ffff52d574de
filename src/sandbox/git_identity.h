// The person's git identity for a confined run. The run's HOME is its own, so
// git inside never reads ~/.gitconfig (which may hold credential helpers and
// tokens); only user.name and user.email, as git sees them in the workspace,
// come along as GIT_AUTHOR_* / GIT_COMMITTER_* variables.
//
// Asking git costs a process (~10 ms) at every run's start, so the answer is
// kept in a cache file under the store, valid while every config file git
// reads for that repository, and every file the values came from, is
// unchanged (size, mtime, inode) and the variables that choose those files
// are the same. Not seen: a file included from one of them that changes
// alone, or starts to define the identity; touching any of the files above
// (or removing the cache) makes the next run ask git again.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline {

// What `git config --show-origin --get-regexp '^user\.(name|email)$'` said,
// lines of "file:PATH<TAB>KEY VALUE".
using GitConfigAsker = std::function<Result<std::string>(const std::string& workspace)>;
// The real one: git in the workspace.
Result<std::string> AskGitConfig(const std::string& workspace);

// {GIT_AUTHOR_NAME, GIT_COMMITTER_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_EMAIL}
// as far as git knows them (the last value wins, as in git). common_dir:
// the repository's .git; cache_file: empty for no cache.
std::map<std::string, std::string> GitIdentityEnv(const std::string& workspace, const std::string& common_dir,
                                                  const std::string& cache_file,
                                                  const GitConfigAsker& ask = AskGitConfig);

}  // namespace pipeline
