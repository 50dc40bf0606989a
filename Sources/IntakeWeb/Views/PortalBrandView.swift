import Intake
import Templates
import Web

/// The owner's branding on the client's pages (the portal and its receipt): the logo with its
/// text alternative, the stylesheet of the accent colour, and the welcome text as escaped
/// paragraphs with https links.
enum PortalBrandView {
    static func model(_ portal: Portal) -> TemplateValue {
        let slug = URLEncodedForm.encode(portal.slug)
        let welcome = PortalBranding.paragraphs(portal.description)
        return [
            "hasWelcome": .bool(!welcome.isEmpty),
            "logo": logoAddress(portal).map(TemplateValue.string) ?? .null,
            "logoAlt": .string(portal.logoAlt ?? portal.name + " logo"),
            "theme": portal.accentColor.map { .string("/p/\(slug)/theme.css?c=\($0.dropFirst())") } ?? .null,
            "welcome": .list(welcome.map { pieces in
                ["pieces": .list(pieces.map { piece -> TemplateValue in
                    switch piece {
                    case .text(let text): return ["text": .string(text)]
                    case .link(let url): return ["link": .string(url)]
                    }
                })]
            }),
        ]
    }

    /// Where the portal's logo is served, versioned by when it was set; nil without one.
    static func logoAddress(_ portal: Portal) -> String? {
        portal.logoUpdatedAt.map { "/p/\(URLEncodedForm.encode(portal.slug))/logo?v=\($0)" }
    }

    /// What a portal takes, for its page: in words, every extension, and the `accept` list of
    /// the file input (empty for anything).
    static func accepted(_ portal: Portal) -> TemplateValue {
        let accepted = portal.accepted
        let extensions = accepted.allExtensions
        return [
            "anything": .bool(accepted.isAnything),
            "words": .string(accepted.description ?? "any type of file"),
            "extensions": .string(extensions.map { "." + $0 }.joined(separator: ", ")),
            "families": .list(accepted.families.sorted().map { f in
                ["label": .string(f.label), "extensions": .string(f.extensions.map { "." + $0 }.joined(separator: ", "))]
            }),
            "others": .string(accepted.extensions.sorted().map { "." + $0 }.joined(separator: ", ")),
            "accept": .string(extensions.map { "." + $0 }.joined(separator: ",")),
            "list": .string(extensions.joined(separator: ",")),
        ]
    }
}
