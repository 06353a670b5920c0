#ifndef IMAGEDROP_CBUILDINFO_H
#define IMAGEDROP_CBUILDINFO_H

// The git commit the binary was built from. Swift has no value-carrying -D, C does: `make build` passes
// -Xcc -DIMAGEDROP_BUILD_COMMIT="\"<sha>\"", scripts/deb.sh a generated build_commit.h (see build_info.c);
// a plain `swift build` leaves it "unknown".
const char *imagedrop_build_commit(void);

#endif
