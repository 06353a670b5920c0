#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each fuzz target into Fuzz/corpus/<target>/seed-*.

libFuzzer grows the corpus from these; inputs it finds that crashed once are kept beside them as
regression-* files (scripts/fuzz.sh tells how). Run again after changing a seed: it only rewrites seed-* files.
"""
import os, struct, zlib, json

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def be32(v): return struct.pack(">I", v)
def box(kind, payload): return be32(8 + len(payload)) + kind.encode() + payload

def png(w, h):
    def chunk(t, d): return be32(len(d)) + t + d + be32(zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def jpeg(w, h, exif=b""):
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif if exif else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app1 + b"\xff\xdb\x00\x43\x00" + bytes(64) + sof + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00\xff\xd9"

def gif(w, h, frames=1):
    out = b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00" if frames > 1 else b""
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00" + b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return out + b"\x3b"

def riff(*chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body

def wchunk(kind, data):
    pad = b"\x00" if len(data) % 2 else b""
    return kind.encode() + struct.pack("<I", len(data)) + data + pad

def webp_vp8x(w, h, animated=False):
    flags = 0x02 if animated else 0
    vp8x = wchunk("VP8X", bytes([flags, 0, 0, 0]) + struct.pack("<I", w - 1)[:3] + struct.pack("<I", h - 1)[:3])
    frames = wchunk("ANMF", bytes(16) + wchunk("VP8L", b"\x2f" + bytes(4))) * 2 if animated else b""
    return riff(vp8x, frames)

def webp_vp8l(w, h):
    bits = (w - 1) | ((h - 1) << 14)
    return riff(wchunk("VP8L", b"\x2f" + struct.pack("<I", bits) + bytes(8)))

def webp_vp8(w, h):
    return riff(wchunk("VP8 ", b"\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", w, h) + bytes(10)))

def heif(brand, w, h, compat=b"mif1"):
    ftyp = box("ftyp", brand.encode() + bytes(4) + compat)
    ispe = box("ispe", bytes(4) + be32(w) + be32(h))
    meta = box("meta", bytes(4) + box("hdlr", bytes(8) + b"pict" + bytes(13)) + box("iprp", box("ipco", ispe + box("ispe", bytes(4) + be32(w // 2 or 1) + be32(h // 2 or 1)))))
    return ftyp + meta

SEEDS = {
    "image-probe": {
        "png": png(3, 2), "jpeg": jpeg(9, 7), "gif": gif(4, 4), "webp": webp_vp8x(5, 5), "heic": heif("heic", 640, 480),
        "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="30" height="40"/>',
        "text": b"not an image at all\n",
    },
    "probe-png": {"3x2": png(3, 2), "huge": png(1, 1)[:16] + struct.pack(">II", 0x7FFFFFFF, 20000) + b"\x08\x02\x00\x00\x00"},
    "probe-jpeg": {"plain": jpeg(9, 7), "exif": jpeg(1200, 800, b"Exif\x00\x00" + bytes(200)), "progressive": jpeg(9, 7).replace(b"\xff\xc0", b"\xff\xc2")},
    "probe-gif": {"still": gif(4, 4), "animated": gif(8, 8, frames=3)},
    "probe-webp": {"vp8x": webp_vp8x(5, 5), "animated": webp_vp8x(16, 16, animated=True), "vp8l": webp_vp8l(7, 3), "vp8": webp_vp8(20, 10)},
    "probe-isobmff": {
        "heic": heif("heic", 640, 480), "avif": heif("avif", 1920, 1080),
        "mif1": heif("mif1", 100, 100, compat=b"heic"),
        "large-box": box("ftyp", b"heic" + bytes(4)) + be32(1) + b"meta" + be32(0) + be32(40) + bytes(4) + box("iprp", box("ipco", box("ispe", bytes(4) + be32(8) + be32(8)))),
        "mp4": box("ftyp", b"isom" + bytes(4) + b"mp41"),
    },
    "probe-svg": {
        "plain": b'<svg width="100" height="50" xmlns="http://www.w3.org/2000/svg"></svg>',
        "prologue": b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE svg [ <!ENTITY e "x"> ]>\n<svg viewBox="0 0 10 10" width="10cm" height="2in"/>',
        "units": b"<svg width='1e9px' height='99999999999999999999'></svg>",
    },
    "retry-after": {
        "seconds": b"\x00120", "millis": b"1500\x00", "fraction": b"\x001.25", "date": b"\x00Sun, 06 Nov 1994 08:49:37 GMT",
        "both": b"250\x003", "garbage": b"\x00inf", "far-date": b"\x00Fri, 31 Dec 9999 23:59:59 GMT",
    },
    "ratelimit": {
        "default": b'"default";r=50;t=30', "two": b'"burst";r=10;t=5, "default";r=1199;t=300',
        "token": b"default;r=0;t=299", "spaces": b'  "default" ; r=5 ; t=1 ',
    },
    "reply-envelope": {
        "upload": json.dumps({"success": True, "errors": [], "messages": [], "result": {"id": "drop/abc", "filename": "a.png", "uploaded": "2026-01-01T00:00:00.000Z", "variants": ["https://imagedelivery.net/h/drop/abc/public"], "requireSignedURLs": False, "meta": {"sha256": "00" * 32}}}).encode(),
        "error": json.dumps({"success": False, "errors": [{"code": 5455, "message": "Uploaded image must have image/jpeg, image/png, image/webp, image/gif or image/svg+xml content-type", "error_chain": [{"code": 1, "message": "x"}]}], "messages": [], "result": None}).encode(),
        "list": json.dumps({"success": True, "errors": [], "result": {"images": [{"id": "a", "variants": []}, {"id": "b"}], "continuation_token": "tok"}}).encode(),
        "batch": json.dumps({"success": True, "result": {"token": "t", "expiresAt": "2026-01-01T00:00:00Z"}}).encode(),
        "quota": json.dumps({"success": False, "errors": [{"code": 5453, "message": "The given account has reached a service limit.\r\nLine two"}]}).encode(),
    },
    "reply-headers": {
        "upload": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRatelimit: \"default\";r=50;t=30\r\nRetry-After: 3\r\n\r\n",
        "odd": b"HTTP/2 429\r\n: no name\r\nX-Folded: a\r\n  continued\r\nretry-after-ms:\t1500 \r\n",
    },
    "url-list": {
        "plain": b"# images\nhttps://example.com/a.png\n\nhttp://example.com/b.jpg\r\n",
        "credentials": b"https://user:secret@example.com/a.png\nhttps://ghp_TOKEN@example.com/b.png\nhttps://[::1]:8080/c.png?x=@y\n",
        "bad": b"ftp://example.com/a.png\n",
    },
    "sidecar": {
        "own": json.dumps({"id": "drop/abc", "variants": ["https://imagedelivery.net/h/drop/abc/public"], "sha256": "00" * 32,
                           "uploaded_at": "2026-01-01T00:00:00.000Z", "path": "/srv/imagedrop/inbox/a.png", "job": 17}, indent=2).encode(),
        "foreign": b'{"job": "17", "note": "someone else\'s"}\n',
        "deep": b"[" * 600 + b"]" * 600,
        "huge-number": b'{"job": 1e400}',
    },
    "json": {
        "heartbeat": json.dumps({"beat_s": 1764000000, "version": "1.4.0", "paused": None, "rate": 0.25, "tags": ["a", "b/c"]}).encode(),
        "nested": b'[{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]}, {}]',
        "deep": b"[" * 600 + b"]" * 600,
        "huge-number": b'{"n": 1e400, "m": 123456789012345678901234567890}',
    },
    "status-request": {
        "page": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9731\r\n\r\n",
        "rebinding": b"GET /status.json HTTP/1.1\r\nHost: evil.example:9731\r\n\r\n",
        "action": b"POST /retry-failed HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost:9731\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\ncsrf=1764000000.abcd." + b"0" * 64,
        "bearer": b"POST /jobs/12/retry HTTP/1.1\r\nHost: [::1]\r\nAuthorization: Bearer 0123456789abcdef0123456789abcdef\r\n\r\n",
        "absolute": b"GET http://images.example.com/healthz HTTP/1.0\r\n\r\n",
    },
}

def main():
    for target, seeds in SEEDS.items():
        folder = os.path.join(ROOT, target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, "seed-" + name), "wb") as f:
                f.write(data)
    # The 24-byte HEIC that crashed the daemon in a loop (issue 20, item 1): ftyp (16 bytes, brand heic)
    # followed by an empty meta box.
    poison = box("ftyp", b"heic" + bytes(4)) + be32(8) + b"meta"
    assert len(poison) == 24
    for target in ("image-probe", "probe-isobmff"):
        with open(os.path.join(ROOT, target, "regression-empty-meta-box"), "wb") as f:
            f.write(poison)

if __name__ == "__main__":
    main()
