// placeholder: being written
#include "Commands.h"
namespace msa::tools {
int runInspect(int, char **) { return 1; }
} // namespace msa::tools
