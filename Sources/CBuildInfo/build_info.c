#include "CBuildInfo.h"

#ifndef IMAGEDROP_BUILD_COMMIT
#define IMAGEDROP_BUILD_COMMIT "unknown"
#endif

const char *imagedrop_build_commit(void) { return IMAGEDROP_BUILD_COMMIT; }
