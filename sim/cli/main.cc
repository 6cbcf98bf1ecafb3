// infersim: the command line (sim/cli/app.cc).
#include "sim/cli/app.h"

int main(int argc, char** argv) { return infersim::infersim_main(argc, argv, {}); }
