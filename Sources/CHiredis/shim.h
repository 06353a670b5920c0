// hiredis 0.14 (Debian 12's libhiredis-dev): only redisCommandArgv is used, never the printf-style
// redisCommand, which Swift cannot call (variadic) and which would take a format string.
#include <hiredis/hiredis.h>
