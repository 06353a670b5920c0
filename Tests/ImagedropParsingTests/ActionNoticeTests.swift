import ImagedropParsing
import Testing

/// The page's "what the button did" line: only numbers travel in the redirect, so a crafted link can make the
/// page say nothing of its own.
@Suite("Action notice")
struct ActionNoticeTests {
    @Test("well-formed queries parse, in origin and absolute form, and round-trip through the redirect's location")
    func parses() {
        let cases: [(String, ActionNotice)] = [
            ("/?done=retried-3", ActionNotice(retried: 3)),
            ("/?done=retried-0&job=17&superseded=1", ActionNotice(retried: 0, superseded: 1, job: 17)),
            ("/?gone=2&done=retried-5&other=x#top", ActionNotice(retried: 5, gone: 2)),
            ("http://localhost:9731/?done=retried-1&job=4", ActionNotice(retried: 1, job: 4)),
        ]
        for (target, expected) in cases {
            #expect(ActionNotice(target: target) == expected, "\(target)")
            #expect(ActionNotice(target: expected.location) == expected, "\(expected.location)")
        }
    }

    @Test("anything else is no notice: text, markup, signs, overlong numbers, a missing done")
    func refuses() {
        for target in [
            "/", "/?", "/?done=", "/?done=retried-", "/?done=retried-x", "/?done=<script>alert(1)</script>",
            "/?done=retried-%33", "/?done=retried--1", "/?done=retried-1234567890123456789",
            "/?job=3", "/?done=deleted-3", "/?done=Retried-3", "/#done=retried-3",
        ] {
            #expect(ActionNotice(target: target) == nil, "\(target)")
        }
        // A bad extra field is dropped, not the notice.
        #expect(ActionNotice(target: "/?done=retried-2&job=<b>&gone=1e9") == ActionNotice(retried: 2))
    }

    @Test("the sentence is built from the numbers")
    func text() {
        #expect(ActionNotice(retried: 3).text == "3 failed jobs queued again")
        #expect(
            ActionNotice(retried: 1, superseded: 2, gone: 1).text
                == "1 failed jobs queued again; left as they are: 2 superseded by a newer job of the same file, 1 whose file is no longer there"
        )
        #expect(ActionNotice(retried: 1, job: 9).text == "job 9 queued again")
        #expect(ActionNotice(retried: 0, gone: 1, job: 9).text == "job 9 left as it is: its file is no longer there")
        #expect(
            ActionNotice(retried: 0, superseded: 1, job: 9).text
                == "job 9 left as it is: a newer job of its file carries it")
        #expect(ActionNotice(retried: 0, job: 9).text == "job 9 left as it is: it is not failed (any more)")
    }
}
