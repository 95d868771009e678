#!/usr/bin/env python3
"""GA/T 1400 (VIID) conformance of Anfang's System interface, driven by an independent client:
Python `requests` with its own HTTP Digest implementation (`HTTPDigestAuth`), plus hand-written
headers the way sloppy vendor clients send them. Exits non-zero on the first failure.

Usage: conformance.py BASE_URL DEVICE_ID SECRET   (e.g. http://127.0.0.1:8080 34078100001190001002 s3cret)
"""
import hashlib
import json
import re
import sys

import requests
from requests.auth import HTTPDigestAuth

BASE, DEVICE, SECRET = sys.argv[1], sys.argv[2], sys.argv[3]
OTHER = "34078100001190009999"  # a device that is not registered
VIID_JSON = {"Content-Type": "application/VIID+JSON;charset=UTF-8", "User-Identify": DEVICE}
# The regex a published Python VIID client parses the challenge with: the order matters.
CHALLENGE = re.compile(r'Digest realm="(.*?)", qop="(.*?)", nonce="(.*?)", opaque="(.*?)"')


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def post(path, obj, device=DEVICE, **kw):
    headers = dict(VIID_JSON, **{"User-Identify": device})
    return requests.post(BASE + path, data=json.dumps(obj), headers=headers, timeout=10, **kw)


def status(resp):
    body = resp.json()["ResponseStatusObject"]
    return body["StatusCode"], body


register = {"RegisterObject": {"DeviceID": DEVICE, "ProtocolVersion": "2.0"}}

# 1. An unauthenticated Register is challenged, parameters in the expected order.
r = post("/VIID/System/Register", register)
check(r.status_code == 401, "Register without credentials answers 401")
m = CHALLENGE.match(r.headers.get("WWW-Authenticate", ""))
check(m is not None and m.group(2) == "auth", "the challenge reads Digest realm, qop, nonce, opaque in order")
realm, _, nonce, opaque = m.groups()

# 2. The wrong secret is refused; the right one registers (requests' own digest code).
r = post("/VIID/System/Register", register, auth=HTTPDigestAuth(DEVICE, "not-the-secret"))
check(r.status_code == 401, "a wrong secret is refused")
r = post("/VIID/System/Register", register, auth=HTTPDigestAuth(DEVICE, SECRET))
code, body = status(r)
check(r.status_code == 200 and code == 0 and isinstance(code, int), "Register succeeds with StatusCode 0 as an integer")
check(body["Id"] == DEVICE and re.fullmatch(r"\d{14}", body["LocalTime"]), "the status names the device and the local time")

# 3. Keepalive and Time while registered; an unknown peer is told to register.
r = post("/VIID/System/Keepalive", {"KeepaliveObject": {"DeviceID": DEVICE}})
check(r.status_code == 200 and status(r)[0] == 0, "Keepalive succeeds while registered")
r = post("/VIID/System/Keepalive", {"KeepaliveObject": {"DeviceID": OTHER}}, device=OTHER)
check(r.status_code == 401 and "WWW-Authenticate" in r.headers, "Keepalive from an unregistered peer answers 401")
r = requests.get(BASE + "/VIID/System/Time", headers=VIID_JSON, timeout=10)
t = r.json()["SystemTimeObject"]
check(r.status_code == 200 and re.fullmatch(r"\d{14}", t["LocalTime"]) and len(t["VIIDServerID"]) == 20, "Time answers SystemTimeObject")

# 4. UnRegister ends the registration: the next Keepalive is challenged.
r = post("/VIID/System/UnRegister", {"UnRegisterObject": {"DeviceID": DEVICE}})
check(r.status_code == 200 and status(r)[0] == 0, "UnRegister succeeds")
r = post("/VIID/System/Keepalive", {"KeepaliveObject": {"DeviceID": DEVICE}})
check(r.status_code == 401, "after UnRegister a Keepalive is challenged")

# 5. A sloppy client: unquoted qop and nc, an absolute uri, username other than the DeviceID,
#    a JSON content type of its own, the DeviceID only in User-Identify.
r = post("/VIID/System/Register", register)
_, _, nonce, opaque = CHALLENGE.match(r.headers["WWW-Authenticate"]).groups()
uri = BASE + "/VIID/System/Register"
user, cnonce, nc = "admin", "0a4f113b", "00000001"
ha1 = hashlib.md5(f"{user}:{realm}:{SECRET}".encode()).hexdigest()
ha2 = hashlib.md5(f"POST:{uri}".encode()).hexdigest()
response = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
authorization = (f'Digest username="{user}",realm="{realm}",nonce="{nonce}",uri="{uri}",'
                 f'qop=auth,nc={nc},cnonce="{cnonce}",response="{response}",opaque="{opaque}"')
r = requests.post(BASE + "/VIID/System/Register", data=json.dumps({"RegisterObject": {}}),
                  headers={"Content-Type": "application/vvid+json", "User-Identify": DEVICE,
                           "Authorization": authorization}, timeout=10)
check(r.status_code == 200 and status(r)[0] == 0, "a sloppy client's digest (unquoted qop/nc, absolute uri) registers")

# 6. Newer Hikvision devices sign any request after reconnecting: a signed Keepalive registers.
post("/VIID/System/UnRegister", {"UnRegisterObject": {"DeviceID": DEVICE}})
r = post("/VIID/System/Keepalive", {"KeepaliveObject": {"DeviceID": DEVICE}}, auth=HTTPDigestAuth(DEVICE, SECRET))
check(r.status_code == 200, "a Keepalive carrying a valid digest is admitted")

# 7. Uploads: one status per object, a bad object fails alone, gzip bodies, duplicates, limits.
import gzip
import base64

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwylsKAAIzAU6YytWUAAAAAElFTkSuQmCC"
rid = lambda n: f"{DEVICE}02{'20240604094547'}{n:05d}"  # 20 + 2 + 14 + 5 = 41 digits
vehicles = {"MotorVehicleListObject": {"MotorVehicleObject": [
    {"MotorVehicleID": rid(1), "DeviceID": DEVICE, "PassTime": "20240604094547", "PlateNo": "浙B0560Z",
     "SubImageList": {"SubImageInfoObject": [{"ImageID": rid(1), "Type": "01", "FileFormat": "Jpeg", "Data": PNG}]}},
    {"DeviceID": DEVICE, "PlateNo": "浙B0000X"},
    {"MotorVehicleID": rid(3), "DeviceID": DEVICE, "PassTime": "20240604094548", "PlateNo": "鲁C12345"},
]}}
r = post("/VIID/MotorVehicles", vehicles)
items = r.json()["ResponseStatusListObject"]["ResponseStatusObject"]
codes = [i["StatusCode"] for i in items]
check(r.status_code == 200 and codes == [0, 8, 0], f"one status per object, the bad one fails alone: {codes}")
check(items[0]["Id"] == rid(1), "statuses name the objects")
faces = {"FaceListObject": {"FaceObject": [{"FaceID": rid(7), "DeviceID": DEVICE, "ShotTime": "20240604094549",
          "SubImageList": {"SubImageInfoObject": [{"Type": "11", "Data": PNG}]}}]}}
zipped = gzip.compress(json.dumps(faces).encode())
r = requests.post(BASE + "/VIID/Faces", data=zipped, timeout=10,
                  headers=dict(VIID_JSON, **{"Content-Encoding": "gzip"}))
check(r.status_code == 200 and r.json()["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"] == 0,
      "a gzip body is accepted")
r = post("/VIID/Faces", faces)
check(r.status_code == 200 and r.json()["ResponseStatusListObject"]["ResponseStatusObject"][0]["StatusCode"] == 0,
      "a repeated upload is answered as stored")
# A picture with its ImageInfo (/VIID/Images); one without Data fails alone.
images = {"ImageListObject": {"Image": [
    {"ImageInfo": {"ImageID": rid(9), "DeviceID": DEVICE, "ShotTime": "20240604094550", "FileFormat": "Png",
                   "Type": "14"}, "Data": PNG},
    {"ImageInfo": {"ImageID": rid(10), "DeviceID": DEVICE}},
]}}
r = post("/VIID/Images", images)
codes = [i["StatusCode"] for i in r.json()["ResponseStatusListObject"]["ResponseStatusObject"]]
check(r.status_code == 200 and codes == [0, 8], f"Images are stored, one without its data refused: {codes}")
r = post("/VIID/Faces", faces, device=OTHER)
check(r.status_code == 401, "an unregistered peer cannot upload")
r = requests.post(BASE + "/VIID/Faces", data=b"x" * (65 * 1024 * 1024), headers=VIID_JSON, timeout=30)
check(r.status_code == 413, "an oversized body is refused with 413")
r = requests.post(BASE + "/VIID/Faces", data=b"{not json", headers=VIID_JSON, timeout=10)
check(r.status_code == 400 and r.json()["ResponseStatusObject"]["StatusCode"] == 7, "malformed JSON answers StatusCode 7")

# 8. The camera catalogue: our cameras with IsOnline; a peer's status report, unknown ones refused.
r = requests.get(BASE + "/VIID/APEs", headers=VIID_JSON, timeout=10)
apes = r.json()["APEListObject"]["APEObject"]
check(r.status_code == 200 and any(a["ApeID"] == DEVICE and a["IsOnline"] == "1" for a in apes),
      "APEs lists the camera as online")
report = {"APEListObject": {"APEObject": [{"ApeID": DEVICE, "IsOnline": "1"}, {"ApeID": OTHER, "IsOnline": "1"}]}}
r = requests.put(BASE + "/VIID/APEs", data=json.dumps(report), headers=VIID_JSON, timeout=10)
codes = [i["StatusCode"] for i in r.json()["ResponseStatusListObject"]["ResponseStatusObject"]]
check(r.status_code == 200 and codes == [0, 4], f"a status report answers each camera: {codes}")
print("GA/T 1400 System conformance: all checks passed")
