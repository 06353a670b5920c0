import Glibc

/// CPU time of a finished child from `wait4`'s rusage (including children it reaped itself: curl under
/// xargs is charged like imagedrop), and its peak resident set from `/proc/PID/status` VmHWM, sampled while
/// it runs and just before it exits. (`ru_maxrss` is no good here: posix_spawn's vfork child starts in the
/// bench's address space, and exec folds that high-water mark into the child's.)
package struct ResourceUsage: Codable {
    package var userSeconds: Double
    package var systemSeconds: Double
    package var maxRSSMiB: Double
    package var cpuSeconds: Double { userSeconds + systemSeconds }

    package init(_ usage: rusage, peakKiB: Int) {
        userSeconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        systemSeconds = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        maxRSSMiB = peakKiB > 0 ? Double(peakKiB) / 1024 : .nan
    }
}

package struct SpawnError: Error, CustomStringConvertible {
    package let description: String
    package init(description: String) { self.description = description }
}

/// A child started with posix_spawn; stdout and stderr go to files (or are inherited), so nothing blocks
/// on a pipe nobody reads. Reaped with wait4 to get its resource usage.
package final class ChildProcess {
    package let pid: pid_t
    package let executable: String
    package private(set) var exitStatus: Int32?
    package private(set) var usage: ResourceUsage?
    /// Highest VmHWM seen so far (KiB).
    package private(set) var peakKiB = 0

    package init(
        _ executable: String, _ arguments: [String], environment: [String: String],
        stdoutPath: String? = nil, stderrPath: String? = nil
    ) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdoutPath {
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    package func signal(_ signal: Int32) {
        if exitStatus == nil {
            sampleMemory()
            kill(pid, signal)
        }
    }

    /// Reads VmHWM (the kernel's high-water mark of this process's resident set) and keeps the largest.
    package func sampleMemory() {
        guard exitStatus == nil, let status = Files.readText("/proc/\(pid)/status") else { return }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            if let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                peakKiB = max(peakKiB, kib)
            }
        }
    }

    /// True once the child has exited (reaping it).
    package var hasExited: Bool {
        if exitStatus != nil { return true }
        return reap(options: WNOHANG)
    }

    @discardableResult
    package func wait() -> Int32 {
        while exitStatus == nil { _ = reap(options: 0) }
        return exitStatus!
    }

    /// SIGTERM, then SIGKILL after `seconds`.
    @discardableResult
    package func stop(graceSeconds: Double = 30) -> Int32 {
        signal(SIGTERM)
        let deadline = Clock.monotonicSeconds() + graceSeconds
        while !hasExited {
            sampleMemory()
            if Clock.monotonicSeconds() > deadline {
                signal(SIGKILL)
                return wait()
            }
            usleep(2_000)
        }
        return exitStatus!
    }

    private func reap(options: Int32) -> Bool {
        var status: Int32 = 0
        var usage = rusage()
        let rc = wait4(pid, &status, options, &usage)
        if rc == pid {
            exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            self.usage = ResourceUsage(usage, peakKiB: peakKiB)
            return true
        }
        if rc < 0, errno != EINTR {
            exitStatus = -1
            return true
        }
        return false
    }

    /// Runs to completion with stdout captured in a file; returns (status, stdout, wall seconds).
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String],
        scratch: String
    ) throws -> (status: Int32, output: String, seconds: Double, usage: ResourceUsage?, errors: String) {
        let outPath = scratch + "/capture-\(getpid())-\(Clock.monotonicNanos()).out"
        let errPath = outPath + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let start = Clock.monotonicSeconds()
        let child = try ChildProcess(
            executable, arguments, environment: environment, stdoutPath: outPath,
            stderrPath: errPath)
        let status = child.wait()
        let seconds = Clock.monotonicSeconds() - start
        return (status, Files.readText(outPath) ?? "", seconds, child.usage, Files.readText(errPath) ?? "")
    }
}
