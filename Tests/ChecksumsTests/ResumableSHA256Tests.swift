import Checksums
import Testing

@Suite("Resumable SHA-256: state saved and restored between chunks")
struct ResumableSHA256Tests {
    let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    @Test("a saved SHA-256 state restored any number of times gives the one-shot digest; damaged state is refused")
    func resumableHash() {
        var hash = ResumableSHA256()
        var start = 0
        for cut in [1, 63, 64, 65, 1000, 4097, 65_536, 99_999, 100_000] {
            var restored = ResumableSHA256(state: hash.state)!
            data[start..<cut].withUnsafeBytes { restored.update($0) }
            hash = restored
            start = cut
        }
        #expect(hash.finish() == StreamingDigest.digest(.sha256, data))
        #expect(ResumableSHA256(state: [1, 2, 3]) == nil)
        #expect(ResumableSHA256(state: [UInt8](repeating: 0xFF, count: ResumableSHA256.stateSize)) == nil)
    }

    @Test("nothing hashed is the empty string's digest; finish leaves the state as it was, so hashing goes on")
    func finishIsAPeek() {
        var hash = ResumableSHA256()
        #expect(hex(hash.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        Array("ab".utf8).withUnsafeBytes { hash.update($0) }
        let before = hash.state
        _ = hash.finish()
        #expect(hash.state == before)
        Array("c".utf8).withUnsafeBytes { hash.update($0) }
        #expect(hex(hash.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("saved after every piece and restored into a new value, for every piece size", arguments: [1, 7, 55, 56, 63, 64, 65, 128, 1000, 65_537])
    func everyBoundary(piece: Int) throws {
        var state = ResumableSHA256().state
        var count = 0
        feed(data, pieces: piece) { bytes in
            guard var restored = ResumableSHA256(state: state) else { return }
            restored.update(bytes)
            state = restored.state
            count += 1
        }
        #expect(count == (data.count + piece - 1) / piece, "every piece restored a valid state")
        let resumed = try #require(ResumableSHA256(state: state))
        #expect(resumed.finish() == StreamingDigest.digest(.sha256, data))
        #expect(state.count == ResumableSHA256.stateSize)
    }

    @Test("an empty update changes nothing")
    func emptyUpdate() {
        var hash = ResumableSHA256()
        Array("abc".utf8).withUnsafeBytes { hash.update($0) }
        let before = hash.state
        hash.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(hash.state == before)
    }
}
