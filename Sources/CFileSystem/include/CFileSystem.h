#ifndef IMAGEDROP_CFILESYSTEM_H
#define IMAGEDROP_CFILESYSTEM_H

// fstatfs(2)'s file system type, which Swift's Glibc module does not expose (<sys/vfs.h> is not in it).

/// 0 and the descriptor's `statfs.f_type` in `type`, or -1 with errno set.
int imagedrop_file_system_type(int fd, long *type);

#endif
