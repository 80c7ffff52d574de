#include "cli/run_main.h"

int main(int argc, char** argv) { return pipeline::RunMain(argc, argv); }
