import Foundation
import QRCodes

/// The dashboard's QR codes, drawn once per link: a portal's link changes only with its slug, and
/// encoding it on every view would cost more than the rest of the page. Bounded: when full it
/// starts over (the links in use come back at once).
final class QRCodeCache: @unchecked Sendable {
    static let shared = QRCodeCache(limit: 1_000)

    private let lock = NSLock()
    private var drawn: [String: String] = [:]
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// The SVG for `url` (nil: it cannot be encoded).
    func svg(for url: String) -> String? {
        lock.lock()
        let cached = drawn[url]
        lock.unlock()
        if let cached { return cached }
        guard let svg = (try? QRCode(encoding: url))?.svg(label: "QR code for \(url)") else { return nil }
        lock.lock()
        if drawn.count >= limit { drawn.removeAll(keepingCapacity: true) }
        drawn[url] = svg
        lock.unlock()
        return svg
    }
}
