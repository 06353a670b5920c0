import Glibc

/// Starts a detached pthread with a name and a stack size (what Foundation's Thread did, without
/// swift-corelibs-foundation, whose link pulls ICU and 40 MB into the static binary).
package enum OSThread {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// `stackSize` nil: the process default (8 MiB of address space, touched only as used). A thread that
    /// cannot be created is fatal: the daemon is out of memory or over its thread limit.
    package static func start(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { context in
                let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
                // Linux truncates thread names to 15 bytes.
                _ = setThreadName(pthread_self(), String(start.name.utf8.prefix(15))!)
                start.body()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            fatalError("pthread_create failed: \(String(cString: strerror(rc)))")
        }
    }
}

/// glibc's pthread_setname_np(3), a GNU extension that Swift's Glibc module leaves out.
@_silgen_name("pthread_setname_np")
private func setThreadName(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32
