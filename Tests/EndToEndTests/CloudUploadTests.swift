import Checksums
import Database
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("Portal uploads through nginx into Google Drive and Dropbox (fake providers)", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct CloudUploadTests {
    /// A visitor of portal 1 (folder "Tax documents", a subfolder per client) and a way to upload as "Ada".
    struct Visitor {
        let server: IntakeTestServer
        let token: String
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"

        init(_ server: IntakeTestServer) throws {
            let db = try server.openDatabase()
            try db.execute("UPDATE portals SET folder_name = 'Tax documents', client_subfolders = 1")
            self.server = server
            let session = server.session()
            #expect(try session.get("/p/p").status == 200)
            token = try #require(session.csrfToken)
        }

        func upload(_ name: String, _ bytes: [UInt8]) throws -> HTTPResult {
            try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                   headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                             ("X-CSRF-Token", token)],
                                   body: PortalUploadTests().multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Ada")],
                                                                       files: [(name, bytes)]))
        }
    }

    /// An owner with a Google Drive account connected, Drive answered by a fake that checks the fake Google's tokens.
    func connectedDrive() throws -> (IntakeTestServer, FakeOAuthServer, WebSession, FakeDriveServer) {
        let driveBox = Mutex<FakeDriveServer?>(nil)
        let (server, google, owner) = try StorageAPITests().connected(extraEnvironment: { google in
            let drive = try FakeDriveServer(authorize: { google.isValidAccessToken($0) })
            driveBox.withLock { $0 = drive }
            return ["INTAKE_GOOGLE_API_URL": drive.apiURL, "INTAKE_GOOGLE_UPLOAD_URL": drive.uploadURL]
        })
        return (server, google, owner, try #require(driveBox.withLock { $0 }))
    }

    func scan() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return Array("%PDF-1.7\n".utf8) + (0..<(9 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The SHA-256 Intake recorded for upload `id` is the one of the bytes that were sent.
    func recordedHashMatches(_ db: any Database, id: Int, _ bytes: [UInt8]) throws -> Bool {
        let hex = StreamingDigest.digest(.sha256, bytes).map { String(format: "%02x", $0) }.joined()
        return try db.scalar("SELECT sha256 FROM file_uploads WHERE id = $1", [id], as: String.self) == hex
    }

    func deleteAsOwner(_ server: IntakeTestServer, _ owner: WebSession, id: Int) throws -> String {
        try owner.get("/dashboard/files")
        return try HTTPClient.request(port: server.port, method: "DELETE", path: "/api/uploads/\(id)",
                                      headers: [("Cookie", "intake_session=\(owner.cookies["intake_session"]!)"), ("X-CSRF-Token", owner.csrfToken!)]).text
    }

    /// The owner downloads upload `id` (named scan.pdf) through nginx: every byte, the declared
    /// length, the RFC 6266 name, no caching.
    func checkDownload(_ owner: WebSession, id: Int, _ bytes: [UInt8]) throws {
        let got = try owner.get("/api/uploads/\(id)/download")
        let same = got.body == bytes
        #expect(got.status == 200 && same, "\(got.status), \(got.body.count) bytes")
        #expect(got.headers["content-length"] == String(bytes.count) && got.headers["cache-control"] == "private, no-store")
        #expect(got.headers["content-disposition"] == #"attachment; filename="scan.pdf"; filename*=UTF-8''scan.pdf"#)
    }

    @Test("a 9 MiB file goes up in two resumable chunks into Intake/Folder/Client; a refused token mid-upload is renewed; the owner downloads it, also across a cut connection; delete reaches Drive")
    func driveUpload() throws {
        let (server, google, owner, drive) = try connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let db = try server.openDatabase()
        let visitor = try Visitor(server)
        let scan = scan()
        let upload = visitor.upload

        // Drive refuses the first chunk's token: Intake renews it at Google and goes on.
        drive.failNextChunks([.status(401)])
        let refreshesBefore = google.refreshCalls
        let sent = try upload("scan.pdf", scan)
        #expect(sent.status == 200 && sent.text.hasPrefix(#"{"success":true,"uploadId":"1","fileName":"scan.pdf","storageProvider":"google_drive""#))
        let item = try #require(drive.items.first { $0.name == "scan.pdf" })
        #expect(item.bytes == scan)
        #expect(try recordedHashMatches(db, id: 1, scan))
        #expect(drive.path(of: item.id) == ["Intake", "Tax documents", "Ada", "scan.pdf"])
        #expect(google.refreshCalls == refreshesBefore + 1 && drive.statusQueries == 1 && drive.chunkPuts == 3)
        #expect(try db.scalar("SELECT provider_file_id FROM file_uploads WHERE id = 1", as: String.self) == item.id)
        #expect(try db.scalar("SELECT provider_path FROM file_uploads WHERE id = 1", as: String.self) == "Intake/Tax documents/Ada/scan.pdf")
        #expect(try db.scalar("SELECT status FROM storage_accounts", as: String.self) == "ACTIVE")

        // The owner sees it with a download link and downloads it, streamed from Drive; a
        // download cut off by Drive halfway goes on from where it stopped (a Range request).
        let list = try owner.get("/dashboard/files").text
        #expect(list.contains("scan.pdf") && list.contains("/api/uploads/1/download"))
        try checkDownload(owner, id: 1, scan)
        drive.failNextDownloads([.cutAfter(5_000_000)])
        try checkDownload(owner, id: 1, scan)
        #expect(drive.downloadRanges == [nil, nil, "bytes=5000000-"])

        // Deleted: gone from Drive, then from the list.
        #expect(try deleteAsOwner(server, owner, id: 1) == #"{"success":true,"message":"File deleted successfully","deletedFromCloud":true,"deletedFromDatabase":true}"#)
        #expect(!drive.items.contains { $0.id == item.id })
        #expect(try owner.get("/api/uploads/1/download").status == 404)
    }

    @Test("a file trashed in Drive behind Intake's back is a clear 404 on download, nothing streamed, and can still be deleted")
    func driveTrashed() throws {
        let (server, google, owner, drive) = try connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let visitor = try Visitor(server)
        #expect(try visitor.upload("notes.txt", Array("notes\n".utf8)).status == 200)
        let notes = try #require(drive.items.first { $0.name == "notes.txt" })
        drive.trash(notes.id)
        let gone = try owner.get("/api/uploads/1/download")
        #expect(gone.status == 404 && gone.text.contains("gone_from_storage") && gone.text.contains("no longer in Google Drive"), "\(gone.status) \(gone.text)")
        #expect(try deleteAsOwner(server, owner, id: 1).contains(#""success":true"#))
    }

    @Test("Google revokes the grant: the next upload is refused with a clear message, nothing is recorded or reserved, and the account is DISCONNECTED")
    func driveRevoked() throws {
        let (server, google, _, drive) = try connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let db = try server.openDatabase()
        let visitor = try Visitor(server)
        google.revoke(accountID: "acct-1")
        google.expireAccessTokens()
        let refused = try visitor.upload("late.txt", Array("late\n".utf8))
        #expect(refused.status != 200 && refused.text.contains("reconnect"), "\(refused.status) \(refused.text)")
        #expect(!drive.items.contains { $0.name == "late.txt" })
        #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
        #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        #expect(try db.scalar("SELECT status FROM storage_accounts", as: String.self) == "DISCONNECTED")
        #expect(server.spoolFiles.isEmpty, "\(server.spoolFiles)")
    }

    @Test("Drive's 403s through nginx: a rate limit is waited out; a full Drive refuses the file, keeps the account active and tells the owner; a missing scope disconnects the account")
    func driveRefusals() throws {
        let (server, google, _, drive) = try connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let db = try server.openDatabase()
        let visitor = try Visitor(server)
        let bytes = Array("%PDF-1.7\n".utf8) + Array(repeating: UInt8(1), count: 100_000)

        drive.failNextChunks([.forbidden(.userRateLimitExceeded, retryAfter: 1)])
        let limited = try visitor.upload("limited.pdf", bytes)
        #expect(limited.status == 200 && drive.items.contains { $0.name == "limited.pdf" }, "\(limited.text)")

        drive.refuseNextSessionStarts([.storageQuotaExceeded])
        let full = try visitor.upload("full.pdf", bytes)
        #expect(full.status == 502 && full.text.contains("Google Drive is full"), "\(full.status) \(full.text)")
        #expect(try db.scalar("SELECT status FROM storage_accounts", as: String.self) == "ACTIVE")
        #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject = 'Your storage is full: files cannot be delivered'", as: Int.self) == 1)
        #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 1, "the refused file is not kept")

        drive.refuseNextSessionStarts([.insufficientPermissions])
        let scope = try visitor.upload("scope.pdf", bytes)
        #expect(scope.status == 502 && scope.text.contains("reconnect"), "\(scope.status) \(scope.text)")
        #expect(try db.scalar("SELECT status FROM storage_accounts", as: String.self) == "DISCONNECTED")
        #expect(try db.scalar("SELECT active FROM portals WHERE id = 1", as: Int.self) == 0, "its portal stops taking uploads")
        #expect(server.serveLogText().contains("storage account refused for the whole account"))
    }

    @Test("a 9 MiB file goes to Dropbox in an upload session; a chunk partly kept before a dropped connection resumes at incorrect_offset; the owner downloads it, also across a cut connection; delete reaches Dropbox")
    func dropboxUpload() throws {
        let box = Mutex<FakeDropboxServer?>(nil)
        let (server, oauth, owner) = try StorageAPITests().connected(kind: .dropbox, extraEnvironment: { oauth in
            let dropbox = try FakeDropboxServer(identity: oauth, authorize: { oauth.isValidAccessToken($0) })
            box.withLock { $0 = dropbox }
            return ["INTAKE_DROPBOX_API_URL": dropbox.url, "INTAKE_DROPBOX_CONTENT_URL": dropbox.url]
        })
        let dropbox = try #require(box.withLock { $0 })
        defer { server.stop(); oauth.stop(); dropbox.stop() }
        let db = try server.openDatabase()
        let visitor = try Visitor(server)
        let scan = scan()

        dropbox.failNextChunks([.keepOnlyThenDrop(1000)])
        let sent = try visitor.upload("scan.pdf", scan)
        #expect(sent.status == 200 && sent.text.hasPrefix(#"{"success":true,"uploadId":"1","fileName":"scan.pdf","storageProvider":"dropbox""#))
        let file = try #require(dropbox.files.first)
        #expect(file.bytes == scan && file.path == "/Intake/Tax documents/Ada/scan.pdf" && dropbox.incorrectOffsets == 1)
        #expect(try recordedHashMatches(db, id: 1, scan))
        #expect(try db.scalar("SELECT provider_file_id FROM file_uploads WHERE id = 1", as: String.self) == file.id)
        #expect(try owner.get("/dashboard/files").text.contains("/api/uploads/1/download"))
        dropbox.failNextDownloads([.cutAfter(1_000_000), .drop])
        try checkDownload(owner, id: 1, scan)
        #expect(dropbox.downloadRanges == [nil, "bytes=1000000-", "bytes=1000000-"])
        #expect(try deleteAsOwner(server, owner, id: 1) == #"{"success":true,"message":"File deleted successfully","deletedFromCloud":true,"deletedFromDatabase":true}"#)
        #expect(dropbox.files.isEmpty)
    }
}
