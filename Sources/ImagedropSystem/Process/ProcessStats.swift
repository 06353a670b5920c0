import Glibc

/// The standard `process_*` metrics (start time, resident memory, open descriptors), read from /proc as the
/// official Prometheus client libraries read them, so dashboards built for any exporter work unchanged.
/// A figure that cannot be read is nil (the metric is then left out), never a guess.
package struct ProcessStats: Sendable, Equatable {
    /// Unix seconds when the process started (boot time + the process's start in clock ticks after boot).
    package var startTimeSeconds: Double?
    package var residentMemoryBytes: Int?
    package var openFileDescriptors: Int?

    package init(startTimeSeconds: Double? = nil, residentMemoryBytes: Int? = nil, openFileDescriptors: Int? = nil) {
        self.startTimeSeconds = startTimeSeconds
        self.residentMemoryBytes = residentMemoryBytes
        self.openFileDescriptors = openFileDescriptors
    }

    /// This process now.
    package static func current() -> ProcessStats {
        var stats = ProcessStats()
        if let stat = AtomicFile.read(RawPath("/proc/self/stat"), limit: 4096),
            let procStat = AtomicFile.read(RawPath("/proc/stat"), limit: 1 << 20)
        {
            let parsed = parse(
                stat: stat, procStat: procStat, ticksPerSecond: sysconf(Int32(_SC_CLK_TCK)),
                pageSize: sysconf(Int32(_SC_PAGESIZE)))
            stats.startTimeSeconds = parsed.startTimeSeconds
            stats.residentMemoryBytes = parsed.residentMemoryBytes
        }
        // The listing's own descriptor is among the entries, as it is for the Go and Python clients.
        stats.openFileDescriptors = try? DirectoryListing.entries(of: RawPath("/proc/self/fd")).count
        return stats
    }

    /// `stat` is /proc/self/stat, `procStat` /proc/stat (for `btime`). The command name in parentheses may hold
    /// spaces and parentheses itself, so the fields are counted from the last `)`: the first after it is field 3
    /// (state), `starttime` is field 22 (clock ticks after boot), `rss` field 24 (pages). See proc(5).
    package static func parse(
        stat: [UInt8], procStat: [UInt8], ticksPerSecond: Int, pageSize: Int
    )
        -> (startTimeSeconds: Double?, residentMemoryBytes: Int?)
    {
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return (nil, nil) }
        let fields = stat[(close + 1)...].split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }
        func field(_ number: Int) -> Int? {
            let index = number - 3
            guard fields.indices.contains(index) else { return nil }
            return Int(String(decoding: fields[index], as: UTF8.self))
        }
        let rss = field(24).flatMap { pageSize > 0 && $0 >= 0 ? $0.multipliedReportingOverflow(by: pageSize) : nil }
        let resident = rss.flatMap { $0.overflow ? nil : $0.partialValue }
        let bootLine = procStat.split(separator: UInt8(ascii: "\n")).first { $0.starts(with: "btime ".utf8) }
        let boot = bootLine.flatMap { Int(String(decoding: $0.dropFirst(6), as: UTF8.self)) }
        guard let boot, let ticks = field(22), ticksPerSecond > 0 else { return (nil, resident) }
        return (Double(boot) + Double(ticks) / Double(ticksPerSecond), resident)
    }
}
