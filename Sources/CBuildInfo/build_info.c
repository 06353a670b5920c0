#include "CBuildInfo.h"

// scripts/deb.sh writes build_commit.h (ignored by git) before its build and removes it after: only this file
// is recompiled for a new commit, where a -Xcc define would change the flags of every module and rebuild all.
#if __has_include("build_commit.h")
#include "build_commit.h"
#endif

#ifndef IMAGEDROP_BUILD_COMMIT
#define IMAGEDROP_BUILD_COMMIT "unknown"
#endif

const char *imagedrop_build_commit(void) { return IMAGEDROP_BUILD_COMMIT; }
