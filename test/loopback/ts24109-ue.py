#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A GBA_ME terminal (UE) on the Ub interface, written from the standards
alone and sharing no code with xcrs-authsrv: TS 24.109 clause 4 and annex A
(the bootstrap exchange, GET / with HTTP Digest AKAv1-MD5), RFC 3310 (Digest
AKA: RES as the password), RFC 2617 (qop=auth-int: HA2 over the entity
body), TS 35.206 (Milenage, checked against TS 35.208 test set 1 before it
is used), TS 24.109 annex C (the BootstrappingInfo document) and TS 33.220
(B-TID, Ks = CK || IK, Ks_NAF by the KDF of annex B).

It bootstraps once against the BSF at HOST:PORT over TLS (the server's
certificate checked against --ca) and prints one JSON object: the B-TID,
the lifetime, SQN, and Ks_NAF for --naf FQDN and --ua (the Ua security
protocol id, 10 hex digits). Exit status 0 on success; 1 with the reason
on standard error when the BSF does not behave as TS 24.109 says.

  ts24109-ue.py --bsf 127.0.0.1:4433 --ca ca.crt --impi user@home.example \
      --k HEX --opc HEX [--sqn-ms N] [--naf FQDN --ua HEX]
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import ssl
import sys
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def fail(msg):
    print("ts24109-ue: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- Milenage (TS 35.206 4.1) ----

def aes(k, x):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return e.update(x) + e.finalize()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def rot(x, r_bits):
    n = r_bits // 8
    return x[n:] + x[:n]


def const(i):
    return bytes(15) + bytes([i])


def milenage(k, opc, rand, sqn, amf):
    """MAC-A, RES, CK, IK, AK for one vector."""
    temp = aes(k, xor(rand, opc))
    in1 = sqn + amf + sqn + amf
    out1 = xor(aes(k, xor(xor(temp, rot(xor(in1, opc), 64)), const(0))), opc)
    out2 = xor(aes(k, xor(rot(xor(temp, opc), 0), const(1))), opc)
    out3 = xor(aes(k, xor(rot(xor(temp, opc), 32), const(2))), opc)
    out4 = xor(aes(k, xor(rot(xor(temp, opc), 64), const(4))), opc)
    return out1[:8], out2[8:16], out3, out4, out2[:6]


def auts_of(k, opc, rand, sqn_ms, amf=bytes(2)):
    """AUTS = SQN_MS xor AK* || MAC-S (TS 33.102 6.3.3: f1* with AMF 0000;
    f5* of TS 35.206)."""
    temp = aes(k, xor(rand, opc))
    sqn = sqn_ms.to_bytes(6, "big")
    in1 = sqn + amf + sqn + amf
    out1 = xor(aes(k, xor(xor(temp, rot(xor(in1, opc), 64)), const(0))), opc)
    out5 = xor(aes(k, xor(rot(xor(temp, opc), 96), const(8))), opc)
    return xor(sqn, out5[:6]) + out1[8:16]


def milenage_selftest():
    h = bytes.fromhex
    mac, res, ck, ik, ak = milenage(h("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                    h("cd63cb71954a9f4e48a5994e37a02baf"),
                                    h("23553cbe9637a89d218ae64dae47bf35"),
                                    h("ff9bb4d0b607"), h("b9b9"))
    want = ("4a9ffac354dfafb3", "a54211d5e3ba50bf",
            "b40ba9a3c58b2a05bbf0d987b21bf8cb",
            "f769bcd751044604127672711c6d3441", "aa689c648370")
    if (mac.hex(), res.hex(), ck.hex(), ik.hex(), ak.hex()) != want:
        fail("Milenage does not reproduce TS 35.208 test set 1")
    # set 1's f1* 01cfaf9ec4e871e9 and f5* 451e8beca43b, through AUTS
    auts = auts_of(h("465b5ce8b199b49faa5f0a2ee238a6bc"),
                   h("cd63cb71954a9f4e48a5994e37a02baf"),
                   h("23553cbe9637a89d218ae64dae47bf35"), 0xff9bb4d0b607,
                   h("b9b9"))
    if auts.hex() != xor(h("ff9bb4d0b607"), h("451e8beca43b")).hex() + \
            "01cfaf9ec4e871e9":
        fail("f1*/f5* do not reproduce TS 35.208 test set 1")


# ---- HTTP Digest (RFC 2617, RFC 3310) ----

def md5hex(b):
    return hashlib.md5(b).hexdigest()


def digest_params(value):
    """The parameters of a 'Digest k=v, k="v"' header or of a plain list."""
    value = re.sub(r"^\s*Digest\s+", "", value)
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)',
                         value):
        v = m.group(3) if m.group(3) is not None else m.group(2)
        out[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", v)
    return out


def response(user, realm, res, nonce, nc, cnonce, qop, method, uri, body):
    ha1 = md5hex(user.encode() + b":" + realm.encode() + b":" + res)
    ha2 = md5hex((method + ":" + uri + ":" + md5hex(body)).encode())
    return md5hex(":".join([ha1, nonce, nc, cnonce, qop, ha2]).encode())


# ---- TS 33.220 annex B ----

def kdf(key, fc, *params):
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bsf", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--impi", required=True)
    ap.add_argument("--k", required=True)
    ap.add_argument("--opc", required=True)
    ap.add_argument("--sqn-ms", type=int, default=0)
    ap.add_argument("--naf")
    ap.add_argument("--ua")
    ap.add_argument("--body", default="",
                    help="an entity body for the second GET (auth-int "
                         "covers it)")
    ap.add_argument("--sent-body",
                    help="send this body instead of --body (a tampered "
                         "request: the BSF must refuse it)")
    a = ap.parse_args()
    milenage_selftest()
    k, opc = bytes.fromhex(a.k), bytes.fromhex(a.opc)
    host, port = a.bsf.rsplit(":", 1)
    realm = a.impi.split("@", 1)[1]
    ctx = ssl.create_default_context(cafile=a.ca)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                       timeout=10)
    ua = "Bootstrapping Client Agent; Release-6; 3gpp-gba"

    # Table A.3-1: the initial GET, an empty nonce and response
    conn.request("GET", "/", headers={
        "User-Agent": ua, "Accept": "*/*",
        "Authorization": 'Digest username="%s", realm="%s", nonce="", '
                         'uri="/", response=""' % (a.impi, realm)})
    resyncs = 0
    while True:
        r = conn.getresponse()
        r.read()
        if r.status != 401:
            fail("GET: %d, expected 401 with a challenge (A.3 step 4)" %
                 r.status)
        ch = r.getheader("WWW-Authenticate") or ""
        p = digest_params(ch)
        if not ch.lower().startswith("digest") or \
                p.get("algorithm", "").lower() != "akav1-md5":
            fail("401 without Digest algorithm=AKAv1-MD5: " + ch)
        if "auth-int" not in [q.strip() for q in p.get("qop", "").split(",")]:
            fail("401 does not offer qop=auth-int (TS 24.109 4.2): " + ch)
        if p.get("realm") != realm:
            fail("401 realm %r, expected the home network's domain %r" %
                 (p.get("realm"), realm))
        nonce = p["nonce"]
        raw = base64.b64decode(nonce)
        if len(raw) < 32:
            fail("nonce holds %d bytes, expected RAND || AUTN" % len(raw))
        rand, autn = raw[:16], raw[16:32]

        # the USIM: AUTN = SQN xor AK || AMF || MAC-A
        mac, res, ck, ik, ak = milenage(k, opc, rand, bytes(6), bytes(2))
        sqn = xor(autn[:6], ak)
        amf = autn[6:8]
        mac, res, ck, ik, ak = milenage(k, opc, rand, sqn, amf)
        if mac != autn[8:16]:
            fail("AUTN's MAC-A is wrong: the network is not authentic")
        sqn_i = int.from_bytes(sqn, "big")
        if sqn_i > a.sqn_ms:
            break
        # A.4: synchronisation failure, AUTS in the next GET
        resyncs += 1
        if resyncs > 1:
            fail("SQN %d still not fresh after a resynchronisation "
                 "(SQN_MS %d)" % (sqn_i, a.sqn_ms))
        auts = base64.b64encode(auts_of(k, opc, rand, a.sqn_ms)).decode()
        cnonce = os.urandom(16).hex()
        resp = response(a.impi, realm, b"", nonce, "00000001", cnonce,
                        "auth-int", "GET", "/", b"")
        conn.request("GET", "/", headers={
            "User-Agent": ua, "Accept": "*/*",
            "Authorization": 'Digest username="%s", realm="%s", '
                             'nonce="%s", uri="/", qop=auth-int, '
                             'nc=00000001, cnonce="%s", response="%s", '
                             'algorithm=AKAv1-MD5, auts="%s"' %
                             (a.impi, realm, nonce, cnonce, resp, auts)})

    # Table A.3-3: the GET with the response, qop=auth-int
    cnonce = os.urandom(16).hex()
    nc = "00000001"
    body = a.body.encode()
    resp = response(a.impi, realm, res, nonce, nc, cnonce, "auth-int",
                    "GET", "/", body)
    auth = ('Digest username="%s", realm="%s", nonce="%s", uri="/", '
            'qop=auth-int, nc=%s, cnonce="%s", response="%s", '
            'algorithm=AKAv1-MD5' % (a.impi, realm, nonce, nc, cnonce, resp))
    if "opaque" in p:
        auth += ', opaque="%s"' % p["opaque"]
    sent = body if a.sent_body is None else a.sent_body.encode()
    conn.request("GET", "/", body=sent or None,
                 headers={"User-Agent": ua, "Accept": "*/*",
                          "Authorization": auth})
    r = conn.getresponse()
    doc = r.read()
    if r.status != 200:
        fail("GET with RES: %d %s" % (r.status, doc[:200]))
    ctype = (r.getheader("Content-Type") or "").split(";")[0].strip()
    if ctype != "application/vnd.3gpp.bsf+xml":
        fail("200 with Content-Type %r (annex C)" % ctype)
    ai = digest_params(r.getheader("Authentication-Info") or "")
    want = response(a.impi, realm, res, nonce, nc, cnonce, "auth-int",
                    "", "/", doc)
    if ai.get("rspauth") != want:
        fail("Authentication-Info rspauth %r, expected %r: the BSF did not "
             "prove it knew XRES" % (ai.get("rspauth"), want))
    if ai.get("cnonce") != cnonce or ai.get("nc") != nc or \
            ai.get("qop") != "auth-int":
        fail("Authentication-Info does not echo qop, cnonce and nc")
    ns = "{uri:3gpp-gba}"
    root = ET.fromstring(doc)
    if root.tag != ns + "BootstrappingInfo":
        fail("root element %s, expected BootstrappingInfo in uri:3gpp-gba"
             % root.tag)
    btid = root.findtext(ns + "btid")
    life = root.findtext(ns + "lifetime")
    if not btid or not life:
        fail("BootstrappingInfo without btid or lifetime")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", life):
        fail("lifetime %r is not a UTC xs:dateTime ending in Z" % life)
    # TS 33.220 4.5.2: B-TID = base64(RAND) @ BSF's domain
    if btid.split("@", 1)[0] != base64.b64encode(rand).decode():
        fail("B-TID %s does not carry this RAND" % btid)
    out = {"btid": btid, "lifetime": life, "sqn": sqn_i, "resyncs": resyncs,
           "expires_header": r.getheader("Expires")}
    if a.naf and a.ua:
        ks = ck + ik
        naf_id = a.naf.encode() + bytes.fromhex(a.ua)
        out["ks_naf"] = kdf(ks, 0x01, b"gba-me", rand, a.impi.encode(),
                            naf_id).hex()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
