/// A source of request body bytes, read in pieces; the FastCGI stream implements it.
public protocol RequestBodyStream: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`, blocking until some arrive.
    /// Returns 0 only at the end of the body.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// The body of a request: streamed by default, read whole only on request and under a cap.
public final class RequestBody {
    private let stream: RequestBodyStream?
    /// The length the client declared (`CONTENT_LENGTH`), if any.
    public let declaredLength: Int64?
    /// How many bytes have been read so far.
    public private(set) var bytesRead: Int64 = 0

    /// A body over `stream`; `nil` means an empty body.
    public init(stream: RequestBodyStream?, declaredLength: Int64?) {
        self.stream = stream
        self.declaredLength = declaredLength
    }

    /// An in-memory body, for tests and internal requests.
    public convenience init(bytes: [UInt8]) {
        self.init(stream: BufferBodyStream(bytes), declaredLength: Int64(bytes.count))
    }

    /// Reads the next piece into `buffer`; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let stream, buffer.count > 0 else { return 0 }
        let n = try stream.read(into: buffer)
        bytesRead += Int64(n)
        return n
    }

    /// Reads the whole body, refusing (413) a body longer than `limit` bytes — by its declared
    /// length before reading anything, and by the bytes actually sent otherwise.
    public func readAll(limit: Int) throws -> [UInt8] {
        if let declaredLength, declaredLength > Int64(limit) {
            throw HTTPError.tooLarge("The request body is larger than \(limit) bytes.")
        }
        var result: [UInt8] = []
        result.reserveCapacity(Int(min(declaredLength ?? 0, Int64(limit))))
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            if result.count + n > limit {
                throw HTTPError.tooLarge("The request body is larger than \(limit) bytes.")
            }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Reads and throws away what remains, so the connection can be answered cleanly.
    public func discardRemaining() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while try chunk.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
    }
}

/// A body stream over bytes already in memory.
public final class BufferBodyStream: RequestBodyStream {
    private let bytes: [UInt8]
    private var offset = 0
    private let pieceLimit: Int

    /// Serves `bytes`, at most `pieceLimit` bytes per read (to exercise split reads in tests).
    public init(_ bytes: [UInt8], pieceLimit: Int = .max) {
        self.bytes = bytes
        self.pieceLimit = pieceLimit
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset, pieceLimit)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}
