#include "CFileSystem.h"

#include <sys/vfs.h>

int imagedrop_file_system_type(int fd, long *type) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    *type = (long)info.f_type;
    return 0;
}
