import FoundationEssentials

/// An existing `NAME.EXT.imagedrop.json` beside a file: anyone who may write to the drop folder may have put it
/// there, so it is read as hostile bytes (at most 1 MiB, see AfterUploadActions). The daemon only asks whose it
/// is — the `job` it names — to tell its own sidecar from a crash before (the step is done) from someone else's
/// (left alone).
package enum SidecarFile {
    private struct Owner: Decodable {
        var job: Int64?
    }

    /// The job id the file names, or nil when it is no JSON object with an integer `job`.
    package static func jobID(_ bytes: [UInt8]) -> Int64? {
        (try? JSONDecoder().decode(Owner.self, from: Data(bytes)))?.job
    }
}
