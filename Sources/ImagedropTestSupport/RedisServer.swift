import Foundation

/// A throwaway `redis-server` for a test (never the system's service): on a free loopback port and a unix socket
/// in its own temporary folder, nothing saved to disk. `stop()` ends it; `kill()` is the SIGKILL of an outage and
/// `restart()` brings it back on the same port and socket, empty, as a real restart without persistence would.
package final class RedisServer: @unchecked Sendable {
    // @unchecked: `process` is replaced only by restart(), which the owning test calls from one thread.
    package let port: Int
    package let folder: URL
    package var socketPath: String { folder.appendingPathComponent("redis.sock").path }
    private var process: Process?

    package init(password: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagedrop-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try LoopbackPort.free()
        self.password = password
        try start()
    }

    private let password: String?

    private func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        var arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--unixsocket", socketPath, "--save", "",
            "--appendonly", "no", "--enable-debug-command", "local", "--dir", folder.path, "--daemonize", "no",
            "--loglevel", "warning",
        ]
        if let password { arguments += ["--requirepass", password] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while !(LoopbackPort.accepts(port) && FileManager.default.fileExists(atPath: socketPath)) {
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw TestFileError(description: "redis-server did not start on port \(port)")
            }
            usleep(20_000)
        }
    }

    /// SIGKILL, as an outage would: clients see their connection reset and the next connect refused.
    package func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    package func restart() throws {
        kill()
        try? FileManager.default.removeItem(atPath: socketPath)
        try start()
    }

    /// SIGKILL too: nothing is saved anyway, and a test process that blocked SIGTERM (as the daemon's code does in
    /// its `main`) hands that mask to its children, so a SIGTERM would wait forever.
    package func stop() {
        kill()
        process = nil
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}
