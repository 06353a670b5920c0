import Foundation
import Glibc

/// The release `imagedrop run` as a child process on a workspace's config, with its job table polled
/// read-only. `stop()` sends SIGTERM and returns the daemon's CPU time and peak RSS.
package final class DaemonProcess {
    package let process: ChildProcess
    package let counts: JobCounts
    package let spawnedAt: Double

    package init(
        binary: String, workspace: Workspace, emulator: Emulator, database: String? = nil,
        extraEnvironment: [String: String] = [:]
    ) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDFLARE_API_TOKEN"] = emulator.token
        for key in ["NOTIFY_SOCKET", "JOURNAL_STREAM", "IMAGEDROP_CONFIG", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            environment.removeValue(forKey: key)
        }
        environment.merge(extraEnvironment) { $1 }
        counts = JobCounts(path: database ?? workspace.database)
        spawnedAt = Clock.monotonicSeconds()
        process = try ChildProcess(
            binary, ["run", "--config", workspace.configPath], environment: environment,
            stdoutPath: workspace.logPath, stderrPath: workspace.logPath)
    }

    /// Polls the job counts until `condition` holds; false on timeout or if the daemon exited.
    @discardableResult
    package func waitUntil(timeout: Double, interval: Double = 0.005, _ condition: ([String: Int]) -> Bool) -> Bool {
        var samples = 0
        return Clock.waitUntil(timeout: timeout, interval: interval) {
            samples += 1
            if samples % 10 == 0 { process.sampleMemory() }
            if process.hasExited { return true }
            guard let counts = counts.read() else { return false }
            return condition(counts)
        } && !process.hasExited
    }

    @discardableResult
    package func stop() -> ResourceUsage? {
        process.stop(graceSeconds: 30)
        return process.usage
    }
}

/// A datagram socket standing in for systemd's NOTIFY_SOCKET: start-up time is spawn → `READY=1`.
package final class NotifySocket {
    package let path: String
    private let fd: Int32

    package init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, rc == 0 else { throw SpawnError(description: "cannot bind notify socket \(path)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Waits for a datagram containing `READY=1`; returns the monotonic time it arrived.
    package func waitForReady(timeout: Double) -> Double? {
        let deadline = Clock.monotonicSeconds() + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Clock.monotonicSeconds() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, (deadline - Clock.monotonicSeconds()) * 1000))
            guard poll(&poller, 1, remaining) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            let arrived = Clock.monotonicSeconds()
            guard count > 0 else { continue }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            if text.split(separator: "\n").contains("READY=1") { return arrived }
        }
        return nil
    }
}
