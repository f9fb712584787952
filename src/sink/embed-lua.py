#!/usr/bin/env python3
"""embed-lua.py - turns a Lua file into a C header holding it as one string constant.
Usage: embed-lua.py NAME IN.lua OUT.h"""
import sys

name, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, encoding="utf-8") as f:
    lines = f.read().splitlines()
with open(out, "w", encoding="utf-8") as f:
    f.write("/* generated from %s by embed-lua.py: do not edit */\n" % src.split("/")[-1])
    f.write("static const char %s[] =\n" % name)
    for ln in lines:
        esc = ln.replace("\\", "\\\\").replace('"', '\\"')
        f.write('\t"%s\\n"\n' % esc)
    f.write("\t;\n")
