#include "demo/edit.h"

#include "util/files.h"
#include "util/text.h"

namespace pipeline::demo {

FileOp WriteOp(std::string path, std::string text) {
  return {FileOp::Kind::kWrite, std::move(path), std::move(text), ""};
}
FileOp AppendOp(std::string path, std::string text) {
  return {FileOp::Kind::kAppend, std::move(path), std::move(text), ""};
}
FileOp InsertAfterLastOp(std::string path, std::string anchor, std::string text) {
  return {FileOp::Kind::kInsertAfterLast, std::move(path), std::move(text), std::move(anchor)};
}
FileOp ReplaceOp(std::string path, std::string old_text, std::string new_text) {
  return {FileOp::Kind::kReplace, std::move(path), std::move(new_text), std::move(old_text)};
}

Result<std::string> ApplyOpToText(const FileOp& op, const std::string& content) {
  switch (op.kind) {
    case FileOp::Kind::kWrite:
      return op.text;
    case FileOp::Kind::kAppend: {
      // Appending twice would duplicate a function: an agent re-running its
      // step must leave the file as one run would.
      if (content.find(op.text) != std::string::npos) return content;
      std::string out = content;
      if (!out.empty() && out.back() != '\n') out += '\n';
      return out + op.text;
    }
    case FileOp::Kind::kInsertAfterLast: {
      if (content.find(op.text) != std::string::npos) return content;
      size_t insert_at = std::string::npos;
      size_t pos = 0;
      while (pos < content.size()) {
        size_t eol = content.find('\n', pos);
        size_t next = eol == std::string::npos ? content.size() : eol + 1;
        if (StartsWith(std::string_view(content).substr(pos), op.anchor)) insert_at = next;
        pos = next;
      }
      if (insert_at == std::string::npos) {
        return NotFound(op.path + ": no line starts with " + Quoted(op.anchor));
      }
      std::string out = content.substr(0, insert_at);
      if (!out.empty() && out.back() != '\n') out += '\n';
      return out + op.text + content.substr(insert_at);
    }
    case FileOp::Kind::kReplace: {
      size_t at = content.find(op.anchor);
      if (at == std::string::npos) return NotFound(op.path + ": text to replace not found: " + Quoted(op.anchor));
      return content.substr(0, at) + op.text + content.substr(at + op.anchor.size());
    }
  }
  return InvalidArgument("unknown file operation");
}

Status ApplyOps(const std::string& dir, const std::vector<FileOp>& ops) {
  for (const FileOp& op : ops) {
    std::string path = JoinPath(dir, op.path);
    std::string current;
    if (PathExists(path)) {
      PL_ASSIGN_OR_RETURN(current, ReadFile(path));
    }
    PL_ASSIGN_OR_RETURN(std::string next, ApplyOpToText(op, current));
    size_t slash = path.find_last_of('/');
    if (slash != std::string::npos) PL_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
    PL_RETURN_IF_ERROR(WriteFileAtomic(path, next));
  }
  return Status::Ok();
}

}  // namespace pipeline::demo
