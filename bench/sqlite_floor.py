"""The SQLite floor for server ingest: N finding-sized JSON rows, BATCH per transaction, WAL and
synchronous=FULL (as zhicha-server runs SQLite). Prints rows per second."""
import json
import sqlite3
import sys
import time
import uuid

path, count, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE findings (id TEXT PRIMARY KEY, rev INTEGER, data TEXT)")
rows = [
    (
        str(uuid.uuid4()),
        1,
        json.dumps(
            {
                "description": f"第{n}处：局部通风机未实现双风机双电源自动切换，现场查看切换试验记录缺失",
                "place": "1201 回风巷",
                "legal_basis": "《煤矿重大事故隐患判定标准》第八条（三）",
                "measure": "deadline",
                "deadline": "2026-12-31",
            },
            ensure_ascii=False,
        ),
    )
    for n in range(count)
]
start = time.perf_counter()
for i in range(0, count, batch):
    db.execute("BEGIN")
    db.executemany("INSERT INTO findings VALUES (?, ?, ?)", rows[i : i + batch])
    db.execute("COMMIT")
print(round(count / (time.perf_counter() - start)))
