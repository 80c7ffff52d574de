// The program's entry: picks the subcommand (from argv[1], or from the name
// the binary was invoked under) and holds the one top-level catch.
#pragma once

namespace pipeline {

int RunMain(int argc, char** argv);

}  // namespace pipeline
