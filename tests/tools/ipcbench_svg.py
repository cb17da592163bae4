#!/usr/bin/env python3
"""ipcbench_svg.py SVG: the chart of `ipcbench --svg` is well-formed XML
with bars (rect elements) in it.
"""
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rects = root.findall('.//{http://www.w3.org/2000/svg}rect')
assert len(rects) > 20, len(rects)
