import Foundation
import Integrations
import Testing
import TestSupport

/// What reconciliation asks of every provider: the files under Intake's folder, listed whole
/// across pages, and a move of one into the quarantine beside it that keeps the file.
@Suite("Listing Intake's files and quarantining them")
struct ListingAndQuarantineTests {
    @Test("Drive: every file under Intake, across pages of two and down every folder, not what is in the bin or outside Intake; quarantine moves a file (same id, same bytes) to Intake Quarantine/<its folders>")
    func drive() throws {
        let h = try GoogleDriveStorageTests().harness()
        #expect(try h.provider.listFiles() == [], "no Intake folder yet")
        let a = try h.store([1], as: "a.pdf", folder: ["Tax", "Ada"])
        let b = try h.store([2, 2], as: "b.pdf", folder: ["Tax", "Ada"])
        let c = try h.store([3, 3, 3], as: "c.txt", folder: ["Tax"])
        let d = try h.store([4], as: "d.txt", folder: ["Other"])
        let stray = h.fake.put([9, 9, 9, 9], named: "stray.bin", in: ["Intake", "Tax", "Ada"])
        h.fake.trash(h.fake.put([8], named: "binned.bin", in: ["Intake", "Tax"]))
        h.fake.put([7], named: "outside.txt", in: ["Elsewhere"])
        let calls = h.fake.listCalls
        let listed = try h.provider.listFiles()
        #expect(listed == [ListedFile(fileID: d.fileID, path: "Intake/Other/d.txt", size: 1),
                           ListedFile(fileID: a.fileID, path: "Intake/Tax/Ada/a.pdf", size: 1),
                           ListedFile(fileID: b.fileID, path: "Intake/Tax/Ada/b.pdf", size: 2),
                           ListedFile(fileID: stray, path: "Intake/Tax/Ada/stray.bin", size: 4),
                           ListedFile(fileID: c.fileID, path: "Intake/Tax/c.txt", size: 3)])
        // The Intake folder in the root; Intake (Other, Tax); Other; Tax (Ada, c.txt); Ada's three files in two pages.
        #expect(h.fake.listCalls - calls == 6)

        let moved = try h.provider.quarantine(try #require(listed.first { $0.fileID == stray }))
        #expect(moved == ListedFile(fileID: stray, path: "Intake Quarantine/Tax/Ada/stray.bin", size: 4))
        #expect(h.fake.path(of: stray) == ["Intake Quarantine", "Tax", "Ada", "stray.bin"] && h.fake.items.first { $0.id == stray }?.bytes == [9, 9, 9, 9])
        #expect(try h.provider.listFiles().map(\.fileID) == [d.fileID, a.fileID, b.fileID, c.fileID], "the quarantine is not Intake's")
        _ = try h.provider.quarantine(ListedFile(fileID: c.fileID, path: "Intake/Tax/c.txt", size: 3))
        #expect(h.fake.path(of: c.fileID) == ["Intake Quarantine", "Tax", "c.txt"])
        #expect(h.fake.items.filter { $0.name == "Intake Quarantine" }.count == 1 && h.fake.moves == 2, "the quarantine folders are found again")
        #expect(throws: StorageProviderError.self) { try h.provider.quarantine(ListedFile(fileID: "gone", path: "Intake/x", size: 1)) }
    }

    @Test("Dropbox: list_folder recursive under /Intake and list_folder/continue while has_more (two entries a page), folders skipped; a reset cursor starts the listing over; move_v2 keeps the id and renames on a taken name")
    func dropbox() throws {
        let f = try DropboxStorageTests().fixture()
        #expect(try f.provider.listFiles() == [], "no /Intake yet")
        let a = try f.store([1], as: "a.pdf", folder: ["Tax", "Ada"])
        let b = try f.store([2, 2], as: "b.pdf", folder: ["Tax", "Ada"])
        let c = try f.store([3, 3, 3], as: "c.txt", folder: ["Tax"])
        let stray = f.fake.put([9, 9, 9, 9], at: "/Intake/Tax/Ada/stray.bin")
        f.fake.put([7], at: "/Elsewhere/outside.txt")
        let expected = [ListedFile(fileID: a.fileID, path: "Intake/Tax/Ada/a.pdf", size: 1), ListedFile(fileID: b.fileID, path: "Intake/Tax/Ada/b.pdf", size: 2),
                        ListedFile(fileID: stray.id, path: "Intake/Tax/Ada/stray.bin", size: 4), ListedFile(fileID: c.fileID, path: "Intake/Tax/c.txt", size: 3)]
        var calls = f.fake.listCalls
        #expect(try f.provider.listFiles() == expected)
        // Six entries (two folders, four files), two a page.
        #expect(f.fake.listCalls - calls == 3)
        calls = f.fake.listCalls
        f.fake.resetNextContinue()
        #expect(try f.provider.listFiles() == expected)
        #expect(f.fake.listCalls - calls == 2 + 3, "a first page, a reset, then the whole listing again")

        let moved = try f.provider.quarantine(expected[2])
        #expect(moved == ListedFile(fileID: stray.id, path: "Intake Quarantine/Tax/Ada/stray.bin", size: 4))
        #expect(f.fake.files.first { $0.id == stray.id }?.bytes == [9, 9, 9, 9])
        #expect(try f.provider.listFiles() == expected.filter { $0.fileID != stray.id })
        let twin = f.fake.put([5], at: "/Intake/Tax/Ada/stray.bin")
        #expect(try f.provider.quarantine(ListedFile(fileID: twin.id, path: "Intake/Tax/Ada/stray.bin", size: 1)).path == "Intake Quarantine/Tax/Ada/stray (2).bin")
        #expect(f.fake.files.count == 6 && f.fake.moves == 2, "nothing deleted or overwritten")
        #expect(throws: StorageProviderError.self) { try f.provider.quarantine(ListedFile(fileID: "id:gone", path: "Intake/x", size: 1)) }
    }

    @Test("local disk: every regular file under <root>/Intake, not the private .partial copies nor files outside Intake; quarantine links the file under a free name beside Intake and unlinks it from Intake")
    func localDisk() throws {
        try LocalDiskStorageTests().withRoot { root, spool in
            let storage = LocalDiskStorage(root: root)
            #expect(try storage.listFiles() == [], "no Intake folder yet")
            let a = try storage.store(spoolPath: spool, length: 10, fileName: "a.pdf", contentType: "application/pdf", folder: ["Tax", "Ada"])
            let c = try storage.store(spoolPath: spool, length: 30, fileName: "c.txt", contentType: "text/plain", folder: ["Tax"])
            try Data([9, 9, 9, 9]).write(to: URL(fileURLWithPath: root + "/Intake/Tax/Ada/stray.bin"))
            try Data([1]).write(to: URL(fileURLWithPath: root + "/Intake/Tax/.abc.partial"))
            try FileManager.default.createDirectory(atPath: root + "/Elsewhere", withIntermediateDirectories: true)
            try Data([7]).write(to: URL(fileURLWithPath: root + "/Elsewhere/outside.txt"))
            let listed = try storage.listFiles()
            #expect(listed == [ListedFile(fileID: a.fileID, path: "Intake/Tax/Ada/a.pdf", size: 10),
                               ListedFile(fileID: "Intake/Tax/Ada/stray.bin", path: "Intake/Tax/Ada/stray.bin", size: 4),
                               ListedFile(fileID: c.fileID, path: "Intake/Tax/c.txt", size: 30)])

            let moved = try storage.quarantine(listed[1])
            #expect(moved == ListedFile(fileID: "Intake Quarantine/Tax/Ada/stray.bin", path: "Intake Quarantine/Tax/Ada/stray.bin", size: 4))
            #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/" + moved.fileID)) == Data([9, 9, 9, 9]))
            #expect(!FileManager.default.fileExists(atPath: root + "/Intake/Tax/Ada/stray.bin"))
            #expect(try storage.listFiles().map(\.fileID) == [a.fileID, c.fileID])
            try Data([5]).write(to: URL(fileURLWithPath: root + "/Intake/Tax/Ada/stray.bin"))
            let second = try storage.quarantine(ListedFile(fileID: "Intake/Tax/Ada/stray.bin", path: "Intake/Tax/Ada/stray.bin", size: 1))
            #expect(second.fileID.wholeMatch(of: /Intake Quarantine\/Tax\/Ada\/stray \([a-z2-9]{6}\)\.bin/) != nil, "\(second.fileID)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/" + moved.fileID)) == Data([9, 9, 9, 9]), "the first is not replaced")
            #expect(throws: StorageProviderError.self) { try storage.quarantine(ListedFile(fileID: "../x", path: "x", size: 1)) }
        }
    }
}
