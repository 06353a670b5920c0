import Foundation

/// A throwaway `redis-server` for a test (never the system's service): on a free loopback port and a unix socket
/// in its own temporary folder, nothing saved to disk. `stop()` ends it; `kill()` is the SIGKILL of an outage and
/// `restart()` brings it back on the same port and socket, empty, as a real restart without persistence would.
package final class RedisServer: @unchecked Sendable {
    // @unchecked: `process` is replaced only by restart(), which the owning test calls from one thread.
    package private(set) var port: Int
    package let folder: URL
    package var socketPath: String { folder.appendingPathComponent("redis.sock").path }
    private var process: Process?

    package init(password: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagedrop-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try LoopbackPort.free()
        self.password = password
        // The free port is free when asked, not when redis-server binds it: under a full parallel suite another
        // test's server may take it first, and redis-server then exits. A new port, a few times over.
        for _ in 0..<4 {
            if (try? start()) != nil { return }
            port = try LoopbackPort.free()
        }
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
        // Ready when its own socket answers (a TCP accept alone may be another process's on the same port) and it
        // is still running a moment later (a server that lost the port to another exits).
        while !(Self.unixSocketAccepts(socketPath) && LoopbackPort.accepts(port)) {
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { process.terminate() }
                throw TestFileError(description: "redis-server did not start on port \(port)")
            }
            usleep(20_000)
        }
        usleep(50_000)
        guard process.isRunning else {
            throw TestFileError(description: "redis-server exited after start on port \(port)")
        }
    }

    private static func unixSocketAccepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
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
