import Checksums
import Database
import Spool

/// What keeps resumable uploads from piling up or hanging: completing the ones a dead worker left
/// half done, and removing the ones left alone past their expiry.
extension TusUploads {
    /// Crash recovery: uploads whose last byte arrived but whose completion never finished (the
    /// worker died while scanning, or the scanner was down) are completed now, by whoever gets
    /// the spool's lock first.
    @discardableResult
    public func completeStalled(idleFor seconds: Int64 = 30) throws -> Int {
        let now = env.clock.now()
        let stalled = try env.db.query("""
            SELECT id FROM tus_uploads WHERE status IN ($3, $4) AND upload_offset = upload_length AND file_upload_id IS NULL
            AND updated_at <= $1 AND expires_at > $2
            """, [now - seconds, now, TusUploadStatus.received.rawValue, TusUploadStatus.scanning.rawValue]).map { try $0.get("id", as: String.self) }
        var completed = 0
        for id in stalled {
            guard let file = try? SpoolFile.open(spoolPath(id)) else { continue }
            // Closed (and its lock given up) once this upload's completion is over.
            defer { file.close() }
            guard (try? file.tryLock()) == true, let upload = try? live(id: id), upload.isComplete, upload.fileUploadID == nil,
                  Self.isWritable(upload), let hash = ResumableSHA256(state: upload.sha256State) else { continue }
            if (try? complete(upload, hash: hash, remoteAddress: "")) != nil { completed += 1 }
        }
        return completed
    }

    /// The expiry job: uploads left alone past their expiry go with their bytes and
    /// reservations; spool files no row owns (a crash between creating the file and the row)
    /// go once they are older than a lifetime.
    @discardableResult
    public func removeExpired() throws -> Int {
        let expired = try env.db.query("SELECT *, NULL AS file_status, NULL AS receipt_secret FROM tus_uploads WHERE expires_at <= $1", [env.clock.now()]).map(TusUpload.init(row:))
        for upload in expired { try remove(upload) }
        for file in env.spool.entries(in: .resumable) where file.name.hasSuffix(".part") && file.modifiedAt < env.clock.now() - lifetime {
            guard try find(id: String(file.name.dropLast(".part".count))) == nil else { continue }
            Spool.remove(file.path)
        }
        return expired.count
    }
}
