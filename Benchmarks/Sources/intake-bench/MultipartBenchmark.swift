import Web
#if canImport(Glibc)
import Glibc
#endif

/// Parses a `mebibytes`-sized multipart body fed in 64 KiB pieces, as a request stream would,
/// and reports the throughput and the peak resident memory before and after. The body is never
/// held whole: the file bytes come from one 1 MiB buffer of random data, copied piece by piece
/// into a 64 KiB read buffer (as `read(2)` from the request stream would fill it) and fed.
enum MultipartBenchmark {
    static func run(mebibytes: Int) {
        let boundary = "----IntakeBenchBoundary7MA4YWxkTrZu0gW"
        let head = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"portalId\"\r\n\r\n42\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        let tail = Array("\r\n--\(boundary)--\r\n".utf8)
        var rng = SystemRandomNumberGenerator()
        let block = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let piece = 64 * 1024

        let rssBefore = peakRSSKiB()
        var best = Double.infinity
        var fileBytes = 0
        for _ in 0..<3 {
            var parser = try! MultipartParser(boundary: boundary)
            var seen = 0
            let start = now()
            func feed(_ bytes: UnsafeRawBufferPointer) {
                try! parser.feed(bytes) { event in
                    if case .body(let b) = event { seen += b.count }
                }
            }
            head.withUnsafeBytes { feed($0) }
            let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 16)
            defer { readBuffer.deallocate() }
            block.withUnsafeBytes { raw in
                for _ in 0..<mebibytes {
                    var offset = 0
                    while offset < raw.count {
                        let n = min(piece, raw.count - offset)
                        readBuffer.baseAddress!.copyMemory(from: raw.baseAddress! + offset, byteCount: n)
                        feed(UnsafeRawBufferPointer(start: readBuffer.baseAddress, count: n))
                        offset += n
                    }
                }
            }
            tail.withUnsafeBytes { feed($0) }
            try! parser.finish()
            best = min(best, now() - start)
            fileBytes = seen
        }
        let total = Double(head.count + tail.count + mebibytes * (1 << 20))
        precondition(fileBytes == mebibytes * (1 << 20) + 2, "parser lost bytes: \(fileBytes)")
        let rssAfter = peakRSSKiB()
        print("multipart parse: \(mebibytes) MiB body in 64 KiB pieces, best of 3: \(fmt(best * 1000)) ms, \(fmt(total / best / 1e9)) GB/s (target >= 1 GB/s)")
        print("multipart memory: peak RSS \(rssBefore / 1024) MiB before, \(rssAfter / 1024) MiB after parsing \(mebibytes * 3) MiB (growth \(fmt(Double(rssAfter - rssBefore) / 1024)) MiB)")
    }

    static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fmt(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return String(scaled)
}
