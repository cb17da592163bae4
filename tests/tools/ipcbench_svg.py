#!/usr/bin/env python3
"""Check the ipcbench chart is well-formed SVG.

usage: ipcbench_svg.py FILE
"""
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rects = root.findall('.//{http://www.w3.org/2000/svg}rect')
assert len(rects) > 20, len(rects)
