import ImagedropStore
import ImagedropSystem

/// `[fleet]` with custom ids: a content another host already stored is recorded `done` from the fleet's index
/// (FleetContentIndex) with no request; what this host stores or confirms is published there for the others.
extension JobProcessor {
    func sendUnlessStoredInFleet(_ attempt: Attempt, plan: UploadPlan, file: InspectedFile, token: APIToken) throws {
        let form = plan.form(
            job: attempt.job, settings: .init(attempt.config), fileDescriptor: file.fileDescriptor,
            version: file.status, sha256: file.sha256, bytes: file.bytes)
        guard let sha256 = file.sha256, let index = deps.fleetContent, let id = plan.customID else {
            return try request(form, attempt, token: token, customID: plan.customID)
        }
        if let image = index.stored(id: id, sha256: sha256) {
            try finish(attempt, image: image, countAttempt: false, alreadyStored: true)
            if try deps.store.job(id: attempt.job.id)?.state == .done { index.noteShared() }
            return
        }
        try request(form, attempt, token: token, customID: id)
        // Done by this upload or by its 409 and GET: either way the image holds these bytes now.
        if let job = try deps.store.job(id: attempt.job.id), job.state == .done, job.imageID == id, job.sha256 == sha256
        {
            index.publish(id: id, sha256: sha256, variants: job.variants)
        }
    }
}
