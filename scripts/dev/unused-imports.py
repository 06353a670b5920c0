#!/usr/bin/env python3
"""Lists (or, with --apply, removes) the imports of modules a source file does not use, in Sources and Benchmarks.

A module counts as used when the file names one of its top-level declarations or a member it adds to a type of
another module (our targets), or one of its identifiers (C shims and external packages: a pattern each below).
Foundation and Glibc are never touched: too many of their names are plain words. A heuristic, so build after
--apply (`swift build --build-tests`) and put back any import the compiler then asks for (issue 21: 265 imports
in 161 files, one put back, NIOCore's CircularBuffer in ImagesEmulator/RateLimiter.swift, now in the patterns).

Usage: scripts/dev/unused-imports.py [--apply]     (from the repository root)
"""
import re, os, sys, collections
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
own=["ImagedropSupport","ImagedropParsing","ImagedropSystem","ImagedropStore","ImagedropPipeline","ImagedropDaemon","ImagesEmulator","ImagedropTestSupport","ImagedropStoreTestSupport"]
declre=re.compile(r'\b(?:struct|class|enum|protocol|actor|typealias|func|let|var|case|init|subscript|associatedtype)\s+([A-Za-z_]\w*)')
caseList=re.compile(r'^\s*(?:indirect\s+)?case\s+(.*)$')
ident=re.compile(r'\b([A-Za-z_]\w*)\b')
def strip(src):
    src=re.sub(r'/\*.*?\*/','',src,flags=re.S)
    src=re.sub(r'//.*','',src)
    return src
names=collections.defaultdict(set)
typenames=set()
srcs={}
for m in own:
    for root,_,fs in os.walk("Sources/"+m):
        for f in fs:
            if f.endswith(".swift"):
                p=os.path.join(root,f); srcs[p]=(m,strip(open(p).read()))
                for mm in re.finditer(r'\b(?:struct|class|enum|protocol|actor|typealias)\s+([A-Za-z_]\w*)',srcs[p][1]): typenames.add(mm.group(1))
for p,(m,s) in srcs.items():
    depth=0; foreign_ext_depth=None
    for line in s.split("\n"):
        if depth==0:
            mm=declre.search(line)
            if mm and re.match(r'^\s*(?:@[\w()., ]+\s+)*(?:(?:public|package|internal|fileprivate|private|final|indirect|open|static|nonisolated|@usableFromInline|@inlinable)\s+)*(?:struct|class|enum|protocol|actor|typealias|func|let|var)\b',line):
                names[m].add(mm.group(1))
            op=re.search(r'\b(?:prefix|infix|postfix)\s+operator\s+(\S+)',line)
            if op: names[m].add(op.group(1))
            e=re.match(r'^\s*(?:(?:public|package|internal|fileprivate|private)\s+)?extension\s+([\w.]+)',line)
            if e and e.group(1).split(".")[0] not in typenames:
                foreign_ext_depth=0
        elif foreign_ext_depth is not None and depth==1:
            mm=declre.search(line)
            if mm: names[m].add(mm.group(1))
            for o in re.finditer(r'static func\s*([^\w\s(<]+)\s*[(<]',line): names[m].add(o.group(1))
        depth+=line.count("{")-line.count("}")
        if depth==0: foreign_ext_depth=None
# names that are too generic to count as evidence? keep all (over-approximate usage => fewer removals)
ext={
 "CSQLite":r'sqlite3|SQLITE_',"CCurl":r'\bcurl|CURL',"CHiredis":r'redis\w*\(|REDIS_|redisReply|redisContext',
 "COpenSSL":r'EVP_|HMAC|SHA256_|RAND_|OPENSSL|CRYPTO_|ERR_',"CBuildInfo":r'imagedrop_build|build_info|BUILD',"CCrashJournal":r'crash_journal|crashJournal|cj_',
 "Synchronization":r'\bMutex\b|\bAtomic\b|Atomic<|AtomicLazyReference|WordPair|\.relaxed|\.acquiring|\.releasing|sequentiallyConsistent',
 "Logging":r'\bLogger\b|LogHandler|LoggingSystem|\bLogging\.|Logger\.',
 "Metrics":r'\bCounter\b|\bGauge\b|\bTimer\b|\bRecorder\b|MetricsSystem|\bMeter\b|FloatingPointCounter|MetricsFactory|Metrics\.',
 "Prometheus":r'Prometheus',"TOMLKit":r'TOML',"NIOCore":r'Channel|ByteBuffer|EventLoop|NIO|SocketAddress|CircularBuffer',"NIOPosix":r'MultiThreadedEventLoopGroup|ServerBootstrap|ClientBootstrap|NIOPosix|NIOThreadPool|NIOPipeBootstrap',
 "NIOHTTP1":r'HTTP(Server|Request|Response)|HTTPHeaders|HTTPMethod|HTTPVersion|HTTPPart|configureHTTPServerPipeline|NIOHTTP1',
 "ArgumentParser":r'ParsableCommand|@Option|@Flag|@Argument|@OptionGroup|CommandConfiguration|ValidationError|ExitCode|CleanExit|ParsableArguments|ExpressibleByArgument|ArgumentHelp|CommandGroup|NameSpecification|CompletionKind|ArgumentArrayParsingStrategy|ParsableArgumentsValidation|\.customLong|EnumerableFlag|ArgumentParser',
 "Dispatch":r'Dispatch',
 "Foundation":r'\b(Data|URL|URLComponents|URLQueryItem|Date|DateFormatter|ISO8601DateFormatter|FileManager|FileHandle|ProcessInfo|Process|Pipe|Thread|NSLock|NSCondition|NSRecursiveLock|NSString|NSError|NSNumber|NSNull|NSRange|NSRegularExpression|CharacterSet|JSONSerialization|JSONEncoder|JSONDecoder|PropertyListSerialization|UUID|TimeInterval|Calendar|TimeZone|Locale|NumberFormatter|RunLoop|Bundle|Decimal|Dispatch\w+|ObjCBool|FileAttributeKey|URLSession|Notification|Scanner|NSData|autoreleasepool|CocoaError|POSIXError|Measurement|ByteCountFormatter|OutputStream|InputStream|Host|NSObject|LocalizedError|localizedDescription|components|trimmingCharacters|replacingOccurrences|range|padding|appendingPathComponent|deletingLastPathComponent|lastPathComponent|pathExtension|deletingPathExtension|expandingTildeInPath|standardizingPath|resolvingSymlinksInPath|contentsOfFile|contentsOf|toFile|write|data|base64EncodedString|base64Encoded|capitalized|uppercased|addingPercentEncoding|removingPercentEncoding|format|caseInsensitiveCompare|localizedCaseInsensitiveCompare|compare|smartPoints|strerror|errno|exit|usleep|sleep|getpid|open|close|read|pow|log10|floor|ceil|round|sqrt|exp|log|fabs|abs|memcpy|memcmp|strlen|signal|kill|stat|fstat|lstat|rename|unlink|mkdir|rmdir|time|clock_gettime|timespec|timeval|strncmp|pthread_\w+|S_IF\w+|O_\w+|E[A-Z]+|SIG\w+|fsync|fflush|stderr|stdout|fputs|fileno|isatty|write|ftruncate|lseek|dup2?|pipe|poll|fcntl|socket|bind|listen|accept|connect|sockaddr\w*|setsockopt|getsockopt|recv|send|inet_\w+|htons|ntohs|htonl|ntohl|select|utimensat|readlink|realpath|getenv|setenv|umask|chmod|fchmod|chown|link|symlink|opendir|readdir|closedir|dirent|statvfs|fstatvfs|mmap|munmap|nanosleep|gettimeofday|localtime_r|gmtime_r|timegm|mktime|strftime|tm|setlocale|atexit|_exit|waitpid|fork|execv\w*|posix_spawn\w*|getuid|geteuid|getppid|prctl|uname|sysconf|gethostname|raise|sigaction|sigset_t|sigemptyset|sigaddset|pthread_sigmask|sigwait|memset|malloc|free|strdup|strtol|atoi|qsort|random|arc4random\w*|getrandom|mode_t|off_t|ssize_t|size_t|pid_t|uid_t|gid_t|socklen_t|in_addr|in6_addr|AF_\w+|SOCK_\w+|IPPROTO_\w+|INADDR_\w+|SOL_\w+|SO_\w+|POLL\w+|F_\w+|FD_\w+|R_OK|W_OK|X_OK|F_OK|access|faccessat|openat|renameat2?|unlinkat|mkdirat|fstatat|linkat|AT_\w+|inotify_\w+|IN_\w+|eventfd|epoll_\w+|timerfd_\w+|getdents64|syscall|SYS_\w+|flock|LOCK_\w+|lockf|fdatasync|copy_file_range|sendfile|posix_fallocate|splice|statx|renameat)\b',
}
targets=[d for d in os.listdir("Sources")]+["../Benchmarks/ProcessHarness","../Benchmarks/imagedrop-bench","../Benchmarks/imagedrop-soak"]
out=[]
for t in targets:
    for root,_,fs in os.walk(os.path.normpath("Sources/"+t)):
        for f in fs:
            if not f.endswith(".swift"): continue
            p=os.path.join(root,f)
            raw=open(p).read(); s=strip(raw)
            body=re.sub(r'^\s*(@testable\s+|public\s+|package\s+|internal\s+|@_exported\s+)?import\s+\S+.*$','',s,flags=re.M)
            words=set(ident.findall(body))
            for mm in re.finditer(r'^(?:@testable\s+|public\s+|package\s+|internal\s+)?import\s+(\w+)\s*$',raw,flags=re.M):
                mod=mm.group(1)
                if mod in own:
                    used = bool(words & names[mod]) or (mod+".") in body
                elif mod in ext:
                    used = re.search(ext[mod],body) is not None
                else:
                    continue   # Foundation, Glibc, FoundationNetworking: by hand
                if not used: out.append((p,mod))
for p,m in out: print(p,m)
print(len(out),"unused imports in",len(set(p for p,_ in out)),"files",file=sys.stderr)
if "--apply" in sys.argv[1:]:
    unused=collections.defaultdict(set)
    for p,m in out: unused[p].add(m)
    for p,mods in unused.items():
        lines=[l for l in open(p).read().split("\n") if not (re.match(r'^import (\w+)\s*$',l) and l.split()[1] in mods)]
        while lines and lines[0]=="": lines.pop(0)
        open(p,"w").write("\n".join(lines))
    print("removed; now build: swift build --build-tests",file=sys.stderr)
