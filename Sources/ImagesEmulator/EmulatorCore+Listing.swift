/// The two list routes: v1 (deprecated, page numbers) and v2 (continuation tokens, creator and metadata
/// filters).
extension EmulatorCore {
    func listV1(_ target: RequestTarget) -> Reply {
        let page: Int
        switch integer(target.queryValue("page"), default: 1, range: 1...1_000_000_000, name: "page") {
        case .success(let value): page = value
        case .failure(let error): return .error(error)
        }
        let perPage: Int
        switch integer(target.queryValue("per_page"), default: 1000, range: 10...10_000, name: "per_page") {
        case .success(let value): perPage = value
        case .failure(let error): return .error(error)
        }
        let records = Array(store.all().reversed())
        let start = min((page - 1).multipliedReportingOverflow(by: perPage).partialValue, records.count)
        let slice = records[max(0, start)..<min(records.count, max(0, start) + perPage)]
        return .success(.object([("images", .array(slice.map(imageJSON.value)))]))
    }

    /// Newest first by default. The continuation token names the last image returned (by upload order), so
    /// images uploaded or deleted between pages do not shift the pages that follow.
    func listV2(_ target: RequestTarget) -> Reply {
        let perPage: Int
        switch integer(target.queryValue("per_page"), default: 1000, range: 10...10_000, name: "per_page") {
        case .success(let value): perPage = value
        case .failure(let error): return .error(error)
        }
        let ascending: Bool
        switch target.queryValue("sort_order") ?? "desc" {
        case "asc": ascending = true
        case "desc": ascending = false
        case let other: return .error(.badRequest("Invalid sort_order: '\(other)' (expected asc or desc)"))
        }
        var after: UInt64?
        if let token = target.queryValue("continuation_token"), !token.isEmpty {
            guard token.hasPrefix("c"), let sequence = UInt64(token.dropFirst(), radix: 16) else {
                return .error(.badRequest("Invalid continuation_token"))
            }
            after = sequence
        }
        let filters: [MetadataFilter]
        switch MetadataFilter.parse(target.query) {
        case .success(let parsed): filters = parsed
        case .failure(let error): return .error(error)
        }
        let creator = target.queryValue("creator")

        let (page, more) = store.page(after: after, ascending: ascending, limit: perPage) { record in
            if let creator, creator.isEmpty ? record.creator != nil : record.creator != creator { return false }
            return filters.allSatisfy { $0.matches(record.meta) }
        }
        let token: JSONValue = more ? .string("c" + String(page.last!.sequence, radix: 16)) : .null
        return .success(.object([("images", .array(page.map(imageJSON.value))), ("continuation_token", token)]))
    }

    private func integer(
        _ text: String?, default value: Int, range: ClosedRange<Int>, name: String
    )
        -> Result<Int, APIError>
    {
        guard let text else { return .success(value) }
        // The spec types these as numbers; `20.0` is a number too.
        guard let number = Double(text), number.rounded() == number, number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else {
            return .failure(
                .badRequest("Invalid \(name): must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
        }
        return .success(Int(number))
    }
}
