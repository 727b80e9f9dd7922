"""Average adult hand measurements and joint limits: the data the synthetic hand is built from.

Hand frame (right hand): origin at the wrist joint, x towards the thumb (radial), y along the middle finger
(distal), z out of the palm (palmar); a left hand is its mirror image in x. Millimetres and degrees.

The figures are approximate adult averages, chosen to agree with published anthropometry: the phalanx
proportions of Buryanov & Kotiuk, "Proportions of hand segments", Int. J. Morphol. 28(3), 2010, and the hand
length (wrist crease to middle fingertip, about 182 mm here; 194 mm for men and 181 mm for women) and knuckle
breadth of Greiner, "Hand anthropometry of U.S. Army personnel", 1991. Joint limits are the usual anatomical
ranges of motion of clinical goniometry (AAOS); everyday motion uses less, and the sampler covers all of it.
"""

from __future__ import annotations

import numpy as np

# Chains in canonical order: thumb, index, middle, ring, little. Each chain is a root joint (thumb CMC,
# finger MCP) fixed in the hand frame, then three bones.

ROOT_OFFSETS_MM = np.array(
    [
        [22.0, 22.0, 10.0],  # thumb CMC: radial, close to the wrist, towards the palm
        [28.0, 88.0, 0.0],  # index MCP
        [7.0, 87.0, 0.0],  # middle MCP
        [-14.0, 81.0, 3.0],  # ring MCP: the knuckle arch curves palmar on the ulnar side
        [-33.0, 72.0, 6.0],  # little MCP
    ]
)
"""Root joint of each chain in the hand frame, for a hand of scale 1."""

BONE_LENGTHS_MM = np.array(
    [
        [45.0, 31.0, 27.0],  # thumb: metacarpal, proximal phalanx, distal phalanx to the tip
        [41.0, 24.0, 21.0],  # index: proximal, middle, distal to the tip
        [45.0, 28.0, 22.0],  # middle
        [42.0, 27.0, 22.0],  # ring
        [33.0, 20.0, 20.0],  # little
    ]
)

JOINT_RADII_MM = np.array(
    [
        [12.0, 11.0, 10.0, 8.8],  # thumb: CMC, MCP, IP, tip
        [10.5, 10.0, 8.8, 7.7],  # index: MCP, PIP, DIP, tip
        [11.0, 10.1, 9.0, 7.9],  # middle
        [10.5, 9.7, 8.6, 7.5],  # ring
        [9.4, 8.6, 7.7, 6.8],  # little
    ]
)
"""Half the finger thickness at each chain joint: 20 mm across the index PIP, 17 mm across the little
finger's (Greiner 1991 gives about 21 and 18 mm for the index and little finger PIP breadths of men)."""

FINGER_SPLAY_DEG = np.array([0.0, 6.0, 0.0, -6.0, -12.0])
"""Rest direction of each finger in the palm plane, positive towards the thumb (the thumb has its own)."""

THUMB_REST_DEG = {"splay": 35.0, "palmar": 35.0, "twist": -70.0}
"""The thumb metacarpal points 35 deg radially and 35 deg out of the palm plane, and is turned -70 deg about
its own axis, so that its flexion curls it across the palm and its abduction lifts it away from the palm."""

ARTICULATION_NAMES = ("flexion_1", "abduction_1", "flexion_2", "flexion_3")
"""Per chain: flexion and abduction of the root joint, flexion of the second and third joints."""

JOINT_LIMITS_DEG = np.array(
    [
        [[-20, 50], [-15, 60], [-10, 60], [-15, 85]],  # thumb: CMC flexion, CMC abduction, MCP, IP
        [[-25, 90], [-15, 20], [0, 110], [-5, 85]],  # index: MCP flexion, MCP abduction, PIP, DIP
        [[-25, 90], [-15, 15], [0, 110], [-5, 85]],  # middle
        [[-25, 90], [-15, 15], [0, 110], [-5, 85]],  # ring
        [[-25, 90], [-20, 15], [0, 110], [-5, 85]],  # little
    ],
    dtype=np.float64,
)
"""(5 chains, 4 articulations, [low, high]). A finger's abduction is positive towards the thumb (radial); the
thumb's lifts it away from the palm."""

DIP_PIP_COUPLING = 2.0 / 3.0
"""In natural finger motion the DIP joint flexes about two thirds as far as the PIP joint (tendon coupling)."""

SCALE_RANGE = (0.8, 1.2)
"""Global hand scale: small to large adult hands."""

BONE_VARIATION = 0.04
"""Standard deviation of the per-bone length factor around 1 (clipped to +-2.5 sd)."""

THICKNESS_VARIATION = 0.06
"""Standard deviation of the per-hand thickness factor around 1 (clipped to +-2.5 sd)."""

FOREARM_LENGTH_RANGE_MM = (40.0, 220.0)
"""Length of the forearm stub beyond the wrist: crops of real datasets show anything from none to a lot."""
