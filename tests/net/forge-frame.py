#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sends one hand-made frame from an interface (AF_PACKET), as a guest would.

  forge-frame.py IFACE arp   ETH_SRC SENDER_MAC SENDER_IP TARGET_IP
  forge-frame.py IFACE ns    ETH_SRC OPTION_MAC SRC_IP6 TARGET_IP6
  forge-frame.py IFACE na    ETH_SRC OPTION_MAC SRC_IP6 TARGET_IP6
  forge-frame.py IFACE raw   ETH_SRC            (an IPv4-less frame, ethertype 0x88b5)

ns/na carry a source/target link-layer address option holding OPTION_MAC;
their ICMPv6 checksum is right, so a receiver that is reached processes them.
"""
import socket
import struct
import sys


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ndp(kind, opt_mac, src, target):
    src6 = socket.inet_pton(socket.AF_INET6, src)
    tgt6 = socket.inet_pton(socket.AF_INET6, target)
    if kind == "ns":
        # solicited-node multicast of the target
        dst6 = socket.inet_pton(socket.AF_INET6, "ff02::1:ff00:0")[:13] + tgt6[13:]
        icmp_type, flags, opt_type = 135, 0, 1
    else:
        dst6 = socket.inet_pton(socket.AF_INET6, "ff02::1")
        icmp_type, flags, opt_type = 136, 0x20000000, 2  # override
    body = struct.pack("!I", flags) + tgt6 + struct.pack("!BB", opt_type, 1) + mac(opt_mac)
    icmp = struct.pack("!BBH", icmp_type, 0, 0) + body
    pseudo = src6 + dst6 + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + src6 + dst6
    eth_dst = b"\x33\x33" + dst6[12:]
    return eth_dst, 0x86DD, ip6 + icmp


def main(argv):
    iface, kind, eth_src = argv[1], argv[2], argv[3]
    if kind == "arp":
        sha, spa, tpa = argv[4], argv[5], argv[6]
        payload = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac(sha) + socket.inet_aton(spa) + b"\0" * 6 + socket.inet_aton(tpa)
        dst, proto = b"\xff" * 6, 0x0806
    elif kind in ("ns", "na"):
        dst, proto, payload = ndp(kind, argv[4], argv[5], argv[6])
    elif kind == "raw":
        dst, proto, payload = b"\xff" * 6, 0x88B5, b"vifmac test frame"
    else:
        sys.exit("unknown frame kind " + kind)
    frame = dst + mac(eth_src) + struct.pack("!H", proto) + payload
    frame += b"\0" * max(0, 60 - len(frame))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


if __name__ == "__main__":
    main(sys.argv)
