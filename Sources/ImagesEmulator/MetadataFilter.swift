/// One `meta.<field>[<operator>]=<value>` filter of the list v2 route.
struct MetadataFilter: Equatable {
    enum Comparison: Equatable {
        case equals
        case greater, greaterOrEqual, less, lessOrEqual
        case oneOf
    }

    enum ValueType: Equatable {
        case any, string, number, boolean
    }

    let path: [String]
    let comparison: Comparison
    let type: ValueType
    let values: [String]

    static let maxFilters = 5
    static let maxDepth = 5
    static let maxListItems = 10

    /// The filters in a query, or the 5400 the real API answers for a bad one.
    static func parse(_ query: [(name: String, value: String)]) -> Result<[MetadataFilter], APIError> {
        let items = query.filter { $0.name.hasPrefix("meta.") }
        if items.count > maxFilters {
            return .failure(
                .badRequest("Too many metadata filters: \(items.count) provided, maximum \(maxFilters) allowed"))
        }
        var filters: [MetadataFilter] = []
        for item in items {
            guard item.name.hasSuffix("]"), let open = item.name.firstIndex(of: "[") else {
                return .failure(.badRequest("Invalid metadata filter: '\(item.name)'"))
            }
            let field = item.name[item.name.index(item.name.startIndex, offsetBy: 5)..<open]
            let path = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                return .failure(.badRequest("Invalid metadata filter: '\(item.name)'"))
            }
            guard path.count <= maxDepth else {
                return .failure(.badRequest("Metadata filter nesting exceeds \(maxDepth) levels: '\(field)'"))
            }
            let op = String(item.name[item.name.index(after: open)..<item.name.index(before: item.name.endIndex)])
            guard let (comparison, type) = operators[op] else {
                return .failure(.badRequest("Unsupported metadata filter operator: '\(op)'"))
            }
            let values =
                comparison == .oneOf
                ? item.value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                : [item.value]
            if values.count > maxListItems {
                return .failure(
                    .badRequest(
                        "Too many values for operator '\(op)': \(values.count) provided, maximum \(maxListItems) allowed"
                    ))
            }
            if type == .number, values.contains(where: { Double($0) == nil }) {
                return .failure(.badRequest("Invalid number for metadata filter operator '\(op)': '\(item.value)'"))
            }
            if type == .boolean, values.contains(where: { $0 != "true" && $0 != "false" }) {
                return .failure(.badRequest("Invalid boolean for metadata filter operator '\(op)': '\(item.value)'"))
            }
            filters.append(MetadataFilter(path: path, comparison: comparison, type: type, values: values))
        }
        return .success(filters)
    }

    private static let operators: [String: (Comparison, ValueType)] = [
        "eq": (.equals, .any), "eq:string": (.equals, .string), "eq:number": (.equals, .number),
        "eq:boolean": (.equals, .boolean),
        "gt": (.greater, .number), "gt:number": (.greater, .number),
        "gte": (.greaterOrEqual, .number), "gte:number": (.greaterOrEqual, .number),
        "lt": (.less, .number), "lt:number": (.less, .number),
        "lte": (.lessOrEqual, .number), "lte:number": (.lessOrEqual, .number),
        "in": (.oneOf, .any), "in:string": (.oneOf, .string), "in:number": (.oneOf, .number),
    ]

    func matches(_ meta: JSONValue) -> Bool {
        var current: JSONValue? = meta
        for key in path { current = current?[key] }
        guard let value = current else { return false }
        switch comparison {
        case .equals, .oneOf:
            return values.contains { equal(value, $0) }
        case .greater, .greaterOrEqual, .less, .lessOrEqual:
            guard let number = value.doubleValue, let bound = Double(values[0]) else { return false }
            switch comparison {
            case .greater: return number > bound
            case .greaterOrEqual: return number >= bound
            case .less: return number < bound
            default: return number <= bound
            }
        }
    }

    private func equal(_ value: JSONValue, _ text: String) -> Bool {
        switch (value, type) {
        case (.string(let string), .string), (.string(let string), .any):
            return string == text
        case (.number, .number), (.number, .any):
            guard let number = value.doubleValue, let wanted = Double(text) else { return false }
            return number == wanted
        case (.bool(let flag), .boolean), (.bool(let flag), .any):
            return (flag ? "true" : "false") == text
        default:
            return false
        }
    }
}
