#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the multipart parser reports as it reads.
public enum MultipartEvent {
    /// A new part begins; its body follows as `body` events.
    case partBegin(MultipartPart)
    /// The next bytes of the current part's body. The buffer is valid only during the callback.
    case body(UnsafeRawBufferPointer)
    /// The current part is complete.
    case partEnd
}

/// A push parser for `multipart/form-data` (RFC 7578 on RFC 2046 §5.1): feed it the body in
/// pieces of any size and it reports parts and body chunks as they are recognised. It never holds
/// more than a part's header block and a partial delimiter, whatever the size of a file.
///
/// A state machine with no I/O: the caller reads, the parser decides.
public struct MultipartParser {
    private enum State {
        /// Before the first delimiter; bytes here are discarded.
        case preamble
        /// Just after a delimiter: `--` closes the body, else optional padding and CRLF.
        case afterDelimiter(dashes: Int)
        /// After padding, a CR has been seen; an LF must follow.
        case delimiterLineFeed
        /// Reading the header block of a part.
        case headers
        /// Reading a part's body.
        case body
        /// After the close delimiter; the epilogue is ignored.
        case done
    }

    private let delimiter: [UInt8]          // "\r\n--" + boundary
    private let limits: MultipartLimits
    private var state: State = .preamble
    /// A prefix of `delimiter` seen at the end of the previous piece (it may yet turn out to be data).
    private var held: [UInt8]
    private var headerBlock: [UInt8] = []
    /// Lines (LF) in `headerBlock` so far, the blank line that ends it included.
    private var headerLines = 0
    private var headerStart: Int64 = 0
    private var offset: Int64 = 0           // bytes of the body consumed so far
    private var partCount = 0
    private var partIsFile = false
    private var partBytes = 0

    /// A parser for the given boundary (1–70 characters, RFC 2046 §5.1.1).
    public init(boundary: String, limits: MultipartLimits = .default) throws {
        let b = Array(boundary.utf8)
        guard (1...70).contains(b.count), !b.contains(13), !b.contains(10) else {
            throw MultipartError("invalid boundary (it must be 1 to 70 characters)", at: 0)
        }
        delimiter = Array("\r\n--".utf8) + b
        self.limits = limits
        // The first delimiter may start the body with no CRLF before it: pretend one was seen.
        held = [13, 10]
    }

    /// The boundary parameter of a `multipart/form-data` Content-Type, or a 400/415 saying why not.
    public static func boundary(fromContentType contentType: String?) throws -> String {
        guard let contentType else {
            throw HTTPError(.unsupportedMediaType, code: "unsupported_media_type", "Expected multipart/form-data, got no Content-Type.")
        }
        let (type, params) = try HeaderParameters.parse(contentType, offset: 0)
        guard type.lowercased() == "multipart/form-data" else {
            throw HTTPError(.unsupportedMediaType, code: "unsupported_media_type", "Expected multipart/form-data, got \(type).")
        }
        guard let boundary = params["boundary"], !boundary.isEmpty else {
            throw HTTPError.badRequest("The multipart Content-Type has no boundary parameter.")
        }
        return boundary
    }

    /// Whether the close delimiter has been read.
    public var isComplete: Bool { if case .done = state { return true } else { return false } }

    /// Parses the next piece of the body, reporting events to `handle` in order.
    public mutating func feed(_ input: UnsafeRawBufferPointer, _ handle: (MultipartEvent) throws -> Void) throws {
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = input.count
        var i = 0
        while i < count {
            switch state {
            case .done:
                offset += Int64(count - i)
                return
            case .preamble, .body:
                i = try scan(base, i, count, handle)
            case .afterDelimiter(let dashes):
                let c = base[i]
                if c == UInt8(ascii: "-") && dashes < 2 {
                    if dashes == 1 {
                        state = .done
                    } else {
                        state = .afterDelimiter(dashes: 1)
                    }
                } else if dashes == 1 {
                    throw MultipartError("expected '--' or CRLF after the boundary", at: offset)
                } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
                    // Transport padding (RFC 2046 §5.1.1), ignored.
                } else if c == 13 {
                    state = .delimiterLineFeed
                } else {
                    throw MultipartError("expected CRLF after the boundary", at: offset)
                }
                i += 1
                offset += 1
            case .delimiterLineFeed:
                guard base[i] == 10 else { throw MultipartError("expected LF after CR following the boundary", at: offset) }
                i += 1
                offset += 1
                partCount += 1
                if partCount > limits.maxParts {
                    throw MultipartError("more than \(limits.maxParts) parts", at: offset, status: .payloadTooLarge)
                }
                headerBlock.removeAll(keepingCapacity: true)
                headerLines = 0
                headerStart = offset
                state = .headers
            case .headers:
                let c = base[i]
                headerBlock.append(c)
                i += 1
                offset += 1
                if headerBlock.count > limits.maxHeaderBytes {
                    throw MultipartError("part headers longer than \(limits.maxHeaderBytes) bytes", at: offset, status: .payloadTooLarge)
                }
                if c == 10 { headerLines += 1 }
                if headerLines > limits.maxHeaderLines + 1 {
                    throw MultipartError("more than \(limits.maxHeaderLines) header lines in one part", at: offset, status: .payloadTooLarge)
                }
                if c == 10, endsHeaderBlock() {
                    let part = try MultipartPart.parse(headerBlock: headerBlock, offset: headerStart)
                    partIsFile = part.isFile
                    partBytes = 0
                    state = .body
                    try handle(.partBegin(part))
                }
            }
        }
    }

    /// Parses a whole request body, read in 64 KiB pieces, and checks that it ended properly.
    public mutating func parse(_ body: RequestBody, _ handle: (MultipartEvent) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try body.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { raw in try feed(UnsafeRawBufferPointer(rebasing: raw[0..<n]), handle) }
        }
        try finish()
    }

    /// Declares the end of the body: an error unless the close delimiter was read.
    public func finish() throws {
        switch state {
        case .done: return
        case .preamble: throw MultipartError("no boundary found in the body", at: offset)
        case .headers: throw MultipartError("the body ended inside the headers of part \(partCount)", at: offset)
        default: throw MultipartError("missing final boundary (the body ended inside part \(partCount))", at: offset)
        }
    }

    private func endsHeaderBlock() -> Bool {
        let n = headerBlock.count
        if n == 2 { return headerBlock[0] == 13 }  // no headers at all
        return n >= 4 && headerBlock[n - 4] == 13 && headerBlock[n - 3] == 10 && headerBlock[n - 2] == 13
    }

    /// Scans body (or preamble) bytes from `start` for the delimiter, reporting data before it.
    /// Returns where parsing continues.
    private mutating func scan(
        _ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ handle: (MultipartEvent) throws -> Void
    ) throws -> Int {
        var i = start
        if !held.isEmpty {
            // Continue matching the delimiter prefix left from the previous piece.
            var k = held.count
            while k < delimiter.count && i < count && base[i] == delimiter[k] { k += 1; i += 1 }
            if k == delimiter.count {
                offset += Int64(i - start)
                held.removeAll(keepingCapacity: true)
                try delimiterFound(handle)
                return i
            }
            if i == count {
                held.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                offset += Int64(i - start)
                return i
            }
            // Not a delimiter: the held bytes were data. A delimiter can only begin at a CR, and
            // `held` has none past its first byte, so scanning resumes at `start`.
            let heldBytes = held
            held.removeAll(keepingCapacity: true)
            if case .body = state { try emit(heldBytes, at: offset - Int64(heldBytes.count), handle) }
            i = start
        }
        let dataStart = i
        while i < count {
            guard let found = memchr(base + i, 13, count - i) else { break }
            let cr = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            let available = min(delimiter.count, count - cr)
            var k = 1
            while k < available && base[cr + k] == delimiter[k] { k += 1 }
            if k == delimiter.count {
                try emit(base + dataStart, cr - dataStart, at: offset + Int64(dataStart - start), handle)
                offset += Int64(cr + k - start)
                try delimiterFound(handle)
                return cr + k
            }
            if k == available {
                // The piece ends inside what may be a delimiter: hold it back.
                try emit(base + dataStart, cr - dataStart, at: offset + Int64(dataStart - start), handle)
                held.append(contentsOf: UnsafeBufferPointer(start: base + cr, count: available))
                offset += Int64(count - start)
                return count
            }
            i = cr + 1
        }
        try emit(base + dataStart, count - dataStart, at: offset + Int64(dataStart - start), handle)
        offset += Int64(count - start)
        return count
    }

    private mutating func delimiterFound(_ handle: (MultipartEvent) throws -> Void) throws {
        if case .body = state { try handle(.partEnd) }
        state = .afterDelimiter(dashes: 0)
    }

    private mutating func emit(_ bytes: [UInt8], at position: Int64, _ handle: (MultipartEvent) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try emit($0.baseAddress!, $0.count, at: position, handle) }
    }

    /// Reports `n` body bytes found at `position` in the body. A field over the limit is an error
    /// at its first byte too many, wherever the pieces the body came in happened to end.
    private mutating func emit(_ pointer: UnsafePointer<UInt8>, _ n: Int, at position: Int64, _ handle: (MultipartEvent) throws -> Void) throws {
        guard n > 0, case .body = state else { return }
        let before = partBytes
        partBytes += n
        if !partIsFile && partBytes > limits.maxFieldBytes {
            throw MultipartError("a form field is longer than \(limits.maxFieldBytes) bytes",
                                 at: position + Int64(limits.maxFieldBytes - before), status: .payloadTooLarge)
        }
        try handle(.body(UnsafeRawBufferPointer(start: pointer, count: n)))
    }
}
