import Glibc
import ImagedropSystem

extension Job {
    /// Whether a file job's file is no longer at its path (moved to done_dir/failed_dir, deleted): what
    /// `retry` asks before queueing a job again, since such a job could only fail as "file vanished".
    package static func fileIsGone(_ job: Job) -> Bool {
        guard job.kind == .file, case .failure(let error) = FileStatus.of(job.path, followSymlinks: false) else {
            return false
        }
        return error.errno == ENOENT || error.errno == ENOTDIR
    }
}
