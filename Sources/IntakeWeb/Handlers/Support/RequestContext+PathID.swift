import Web

extension RequestContext {
    /// A path parameter that must be an id (a positive whole number); anything else is a 404,
    /// like an id that names nothing.
    func pathID(_ name: String = "id") throws -> Int64 {
        guard let text = request.parameters[name], let id = Int64(text), id > 0 else {
            throw HTTPError(.notFound, code: "not_found", "There is no such record.")
        }
        return id
    }
}
