#!/usr/bin/env python3
"""Builds data/old.db from data/old.sql (deterministic)."""
import os
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
db = os.path.join(HERE, "data", "old.db")
if os.path.exists(db):
    os.remove(db)
con = sqlite3.connect(db)
with open(os.path.join(HERE, "data", "old.sql")) as f:
    con.executescript(f.read())
con.commit()
con.close()
