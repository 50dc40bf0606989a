import Database
import Foundation
import Integrations
import Spool

/// One upload request to a portal, driven by the multipart parser's events: the form fields
/// first, then the files. One quota reservation covers the whole request (its Content-Length),
/// unless it is small enough to be read whole first (`UploadPipeline.unreservedRequestBytes`);
/// each file is spooled while hashed, then completed by the `UploadPipeline`.
public final class UploadSession {
    let env: UploadEnvironment
    let portal: Portal
    let pipeline: UploadPipeline
    let declaredLength: Int64
    private var fields: [String: String] = [:]
    private var started = false
    private var account: StorageAccount?
    private var reservationID: Int64?
    private var spool: SpoolWriter?
    private var current: (name: String, contentType: String)?
    private var fileLimit: Int64?
    public private(set) var received: [ReceivedFile] = []

    public init(env: UploadEnvironment, portal: Portal, declaredLength: Int64, remoteAddress: String) {
        self.env = env
        self.portal = portal
        self.declaredLength = declaredLength
        pipeline = UploadPipeline(env: env, portal: portal, remoteAddress: remoteAddress)
    }

    deinit { abort() }

    public func field(_ name: String, _ value: String) throws {
        guard !started else { throw UploadRefusal(.invalid, "Send the form fields before the files.") }
        fields[name] = value
    }

    public func beginFile(name: String, contentType: String?) throws {
        if !started {
            started = true
            account = try pipeline.accept(fields: fields)
            if declaredLength > UploadPipeline.unreservedRequestBytes { reservationID = try pipeline.reserve(bytes: declaredLength) }
        }
        guard received.count < portal.maxFiles else { throw UploadRefusal(.invalid, "Send at most \(portal.maxFiles) files at a time.") }
        let limit = try fileLimit ?? pipeline.maxFileBytes()
        fileLimit = limit
        spool = try SpoolError.refusing { try env.spool.writer(limit: min(limit, declaredLength)) }
        current = (ClientFileName.clean(name), contentType ?? "application/octet-stream")
    }

    public func fileChunk(_ bytes: UnsafeRawBufferPointer) throws {
        guard let spool else { return }
        do {
            try SpoolError.refusing { try spool.write(bytes) }
        } catch let tooLarge as SpoolWriter.TooLarge {
            throw UploadRefusal(.tooLarge, "“\(current?.name ?? "The file")” is larger than \(ByteSize(bytes: tooLarge.limit)).")
        }
    }

    /// The file just read, through the rest of the pipeline.
    public func endFile() throws {
        guard let spool, let current, let account else { return }
        defer { spool.abandon(); self.spool = nil; self.current = nil }
        let sha256 = try SpoolError.refusing { try spool.finish() }
        let file = UploadPipeline.Spooled(path: spool.path, size: spool.size, sha256: sha256, head: spool.head, name: current.name,
                                          contentType: current.contentType)
        let source: UploadPipeline.QuotaSource = reservationID.map { .reservation($0) }
            ?? .room(restOfRequest: declaredLength - received.reduce(0) { $0 + $1.size })
        received.append(try pipeline.complete(file, fields: fields, account: account, quota: source))
        env.counters.fileAccepted(.multipart, bytes: file.size)
    }

    /// Releases what the reservation still holds.
    public func finish() throws {
        if let reservationID { try QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        reservationID = nil
    }

    /// On any failure: the spool goes, the reservation is released; files already recorded stay.
    public func abort() {
        spool?.abandon()
        spool = nil
        if let reservationID { try? QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        reservationID = nil
    }
}
