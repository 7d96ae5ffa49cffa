/* The schema, as numbered migrations: entry i brings the database from
 * user_version i to i+1. Only ever append; never edit an entry that has
 * shipped (databases in the field already ran it). */
#include "store_int.h"

/* Numbered migrations: entry i brings the schema from version i to i+1. */
const char *const store_migrations[] = {
    /* 0 -> 1: contacts, conversations, messages (in and out) */
    "CREATE TABLE contacts("
    " id INTEGER PRIMARY KEY, phone TEXT UNIQUE, wa_id TEXT UNIQUE,"
    " raw TEXT, kind TEXT NOT NULL, name TEXT, rt TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX contacts_raw ON contacts(raw);"
    "CREATE TABLE conversations("
    " id INTEGER PRIMARY KEY,"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " status TEXT NOT NULL DEFAULT 'baru', category TEXT, assignee TEXT,"
    " ticket TEXT UNIQUE, due_at INTEGER, last_channel TEXT,"
    " last_in_at INTEGER, unread INTEGER NOT NULL DEFAULT 0,"
    " opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " closed_at INTEGER);"
    "CREATE INDEX conversations_contact ON conversations(contact_id, status);"
    "CREATE TABLE messages("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " channel TEXT NOT NULL, direction TEXT NOT NULL, peer TEXT NOT NULL,"
    " body TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL, source_id TEXT,"
    " status TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'text', error TEXT,"
    " raw TEXT, media TEXT, author TEXT, external_id TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER,"
    " created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX messages_source ON messages(channel, source_id)"
    " WHERE source_id IS NOT NULL;"
    "CREATE INDEX messages_conv ON messages(conversation_id, at);"
    "CREATE INDEX messages_queue ON messages(channel, status, next_at)"
    " WHERE direction = 'out';"
    "CREATE INDEX messages_ext ON messages(external_id)"
    " WHERE external_id IS NOT NULL;",
    /* 1 -> 2: concatenated SMS parts and TP-MR of sent parts */
    "CREATE TABLE sms_parts("
    " source_id TEXT PRIMARY KEY, key TEXT NOT NULL, sender TEXT NOT NULL,"
    " total INTEGER NOT NULL, seq INTEGER NOT NULL, text TEXT,"
    " scts INTEGER, received_at INTEGER NOT NULL, message_id INTEGER);"
    "CREATE INDEX sms_parts_key ON sms_parts(key, seq);"
    "CREATE TABLE sms_mr("
    " mr INTEGER NOT NULL, peer TEXT NOT NULL, message_id INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX sms_mr_mr ON sms_mr(mr, peer);",
    /* 2 -> 3: ticket counters and staff notices */
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE events("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,"
    " conversation_id INTEGER, detail TEXT);",
    /* 3 -> 4: staff users, sessions, notes, full-text search (web UI) */
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),"
    " hash TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE sessions("
    " token_hash TEXT PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " csrf TEXT NOT NULL, peer TEXT, created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_expiry ON sessions(expires_at);"
    "CREATE TABLE notes("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " author TEXT NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX notes_conv ON notes(conversation_id, at);"
    "CREATE TABLE audit("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT,"
    " action TEXT NOT NULL, conversation_id INTEGER, detail TEXT);"
    "CREATE INDEX conversations_updated ON conversations(updated_at, id);"
    "CREATE INDEX conversations_status ON conversations(status,"
    " updated_at);"
    /* External content FTS5 over messages.body, kept in step by
     * triggers; 'rebuild' indexes the rows stored before this version. */
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body,"
    " content='messages', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
    " END;"
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END;"
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body);"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
    " END;"
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');"
    /* One revision number for the UI's cheap 'anything new?' poll. */
    "INSERT OR IGNORE INTO counters(name, value) VALUES ('ui_rev', 0);"
    "CREATE TRIGGER ui_rev_msg_ins AFTER INSERT ON messages BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;"
    "CREATE TRIGGER ui_rev_msg_upd AFTER UPDATE OF status, media, kind"
    " ON messages BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;"
    "CREATE TRIGGER ui_rev_conv AFTER UPDATE ON conversations BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;"
    "CREATE TRIGGER ui_rev_conv_ins AFTER INSERT ON conversations BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;"
    "CREATE TRIGGER ui_rev_contact AFTER UPDATE ON contacts BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;"
    "CREATE TRIGGER ui_rev_note AFTER INSERT ON notes BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;",
    /* 4 -> 5: RT confirmation requests and their audit trail. A code is
     * unique among open requests only (the partial index), so the 9000
     * four-digit codes are reused once requests close. */
    "CREATE TABLE rt_requests("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " service TEXT NOT NULL, rt TEXT NOT NULL, rw TEXT,"
    " head_name TEXT, head_phone TEXT NOT NULL, code TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'menunggu' CHECK (state IN"
    " ('menunggu', 'disetujui', 'ditolak', 'kedaluwarsa', 'batal')),"
    " reason TEXT, answer_raw TEXT, answered_by TEXT, answered_at INTEGER,"
    " created_by TEXT, created_at INTEGER NOT NULL,"
    " remind_at INTEGER NOT NULL, expire_at INTEGER NOT NULL,"
    " reminded_at INTEGER, closed_at INTEGER);"
    "CREATE UNIQUE INDEX rt_requests_code ON rt_requests(code)"
    " WHERE state = 'menunggu';"
    "CREATE INDEX rt_requests_head ON rt_requests(head_phone, state);"
    "CREATE INDEX rt_requests_conv ON rt_requests(conversation_id);"
    "CREATE TABLE rt_log("
    " id INTEGER PRIMARY KEY,"
    " request_id INTEGER REFERENCES rt_requests(id),"
    " at INTEGER NOT NULL, event TEXT NOT NULL, actor TEXT, detail TEXT);"
    "CREATE INDEX rt_log_request ON rt_log(request_id, at);"
    "CREATE TRIGGER ui_rev_rt AFTER UPDATE ON rt_requests BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;",
    /* 5 -> 6: sms_mr rows count the parts of a long SMS already sent, so
     * a resend after a crash goes on from the next part. */
    "CREATE INDEX sms_mr_message ON sms_mr(message_id);",
    /* 6 -> 7: the auto-reply's memory of a conversation: the numbered
     * choice last sent ("kk,drainase" or "menu"; a digit answers it) and
     * whether a closer ("Sama-sama") was already sent (at most one). A
     * table of its own: updating it is not a change staff need to see. */
    "CREATE TABLE conv_state("
    " conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),"
    " last_choices TEXT NOT NULL DEFAULT '',"
    " closer_sent INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL);",
    /* 7 -> 8: the event log for the city hub (store_events.c): events
     * with their per-office sequence number, the broker's acknowledged
     * watermark, and how far the capture has read the other tables. */
    "CREATE TABLE evlog("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " kind TEXT NOT NULL, channel TEXT NOT NULL DEFAULT '',"
    " category TEXT NOT NULL DEFAULT '', ticket TEXT NOT NULL DEFAULT '',"
    " due_at INTEGER NOT NULL DEFAULT 0, value INTEGER NOT NULL DEFAULT 0,"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE evlog_acked(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL);"
    "INSERT INTO evlog_acked VALUES (1, 0);"
    "CREATE TABLE evlog_cursor(name TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL);"
    "INSERT INTO evlog_cursor VALUES ('messages',"
    " (SELECT coalesce(max(id), 0) FROM messages)),"
    " ('rt_requests', (SELECT coalesce(max(id), 0) FROM rt_requests)),"
    " ('rt_answered_at', (SELECT coalesce(max(answered_at), 0)"
    " FROM rt_requests));"
    "CREATE TABLE evlog_tickets("
    " conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),"
    " closed INTEGER NOT NULL DEFAULT 0,"
    " breached INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO evlog_tickets SELECT id, 1, 1 FROM conversations"
    " WHERE ticket IS NOT NULL;",
    /* 8 -> 9: what staff know about a person: the name they gave, the
     * RW and free notes. contacts.name stays the name everyone reads;
     * a staff name wins over the WhatsApp profile name that every
     * webhook may write there (kept as profile_name by the trigger). */
    "ALTER TABLE contacts ADD COLUMN staff_name TEXT;"
    "ALTER TABLE contacts ADD COLUMN profile_name TEXT;"
    "ALTER TABLE contacts ADD COLUMN rw TEXT;"
    "ALTER TABLE contacts ADD COLUMN notes TEXT;"
    /* the satisfaction survey: when "Balas 1-5" went out, the answer */
    "ALTER TABLE conversations ADD COLUMN survey_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN satisfaction INTEGER;"
    "CREATE TRIGGER contacts_staff_name AFTER UPDATE OF name ON contacts"
    " WHEN new.staff_name IS NOT NULL AND new.name IS NOT new.staff_name"
    " BEGIN UPDATE contacts SET profile_name = new.name,"
    " name = new.staff_name WHERE id = new.id; END;",
    /* 9 -> 10: who called a missed caller back, and when (the "telepon
     * balik" action on a missed-call message) */
    "CREATE TABLE call_backs("
    " id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages(id),"
    " user TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX call_backs_message ON call_backs(message_id, at);"
    "CREATE TRIGGER ui_rev_call_back AFTER INSERT ON call_backs BEGIN"
    " UPDATE counters SET value = value + 1 WHERE name = 'ui_rev'; END;",
    /* 10 -> 11: announcements. A subscription per contact and topic
     * ('semua', 'rt:03', 'posyandu'), every change in consent_log with its
     * time and the message that asked for it (PDP law). An announcement's
     * recipients are outbox rows made in the one transaction that makes
     * the announcement; the primary key keeps one per contact. */
    "CREATE TABLE subscriptions("
    " id INTEGER PRIMARY KEY,"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " topic TEXT NOT NULL, channel TEXT NOT NULL,"
    " active INTEGER NOT NULL, changed_at INTEGER NOT NULL,"
    " UNIQUE(contact_id, topic));"
    "CREATE INDEX subscriptions_topic ON subscriptions(topic, active);"
    "CREATE TABLE consent_log("
    " id INTEGER PRIMARY KEY,"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " at INTEGER NOT NULL, action TEXT NOT NULL, topic TEXT NOT NULL,"
    " channel TEXT NOT NULL, message_id INTEGER);"
    "CREATE TABLE announcements("
    " id INTEGER PRIMARY KEY, body TEXT NOT NULL, audience TEXT NOT NULL,"
    " created_by TEXT, created_at INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'dikirim' CHECK (state IN"
    " ('menunggu_persetujuan', 'dikirim')),"
    " approved_by TEXT, approved_at INTEGER);"
    "CREATE TABLE announcement_recipients("
    " announcement_id INTEGER NOT NULL REFERENCES announcements(id),"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " message_id INTEGER NOT NULL REFERENCES messages(id),"
    " PRIMARY KEY(announcement_id, contact_id));",
    /* 11 -> 12: the inbox's lists at a million messages (issue 17): each
     * filter walks an index newest-first and stops at its page, instead
     * of scanning conversations. contacts_kind answers "is this sender a
     * person" (every box) without reading all contacts; the overdue index
     * holds only open conversations with a due date (its WHERE is written
     * the same way in store_list.c, so the planner can use it). */
    "CREATE INDEX conversations_category ON conversations(category,"
    " updated_at);"
    "CREATE INDEX conversations_due ON conversations(updated_at)"
    " WHERE due_at IS NOT NULL AND status != 'selesai';"
    "CREATE INDEX contacts_kind ON contacts(kind);"
    "CREATE INDEX conversations_assignee ON conversations(assignee,"
    " updated_at);"
    /* People by any part of their name or raw sender ("sari wulan",
     * "3636"): a trigram index answers LIKE '%...%' without reading
     * every contact. It keeps its own copy of the two short columns, so
     * a trigger re-copies the row as it is now; the external-content
     * 'delete' would need the old values exactly as indexed, which the
     * nested update of contacts_staff_name does not give. */
    "CREATE VIRTUAL TABLE contacts_fts USING fts5(name, raw,"
    " tokenize='trigram');"
    "INSERT INTO contacts_fts(rowid, name, raw) SELECT id, name, raw"
    " FROM contacts;"
    "CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN"
    " INSERT INTO contacts_fts(rowid, name, raw)"
    " VALUES (new.id, new.name, new.raw); END;"
    "CREATE TRIGGER contacts_fts_au AFTER UPDATE OF name, raw ON contacts"
    " BEGIN DELETE FROM contacts_fts WHERE rowid = new.id;"
    " INSERT INTO contacts_fts(rowid, name, raw)"
    " SELECT id, name, raw FROM contacts WHERE id = new.id; END;"
    "CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN"
    " DELETE FROM contacts_fts WHERE rowid = old.id; END;",
    /* 12 -> 13: FTS5 leaves that fit a 1 KiB page (new stores have
     * page_size 1024, store_open). FTS5 fills a leaf up to its pgsz,
     * 1000 bytes by default, and a few bytes past it; a table b-tree
     * keeps at most page size - 35 bytes of a row in the page (989 at 1
     * KiB, SQLite file format 1.6), so nearly every leaf spilled to an
     * overflow page of its own: two pages read and written for each.
     * 950 leaves room for the overrun and the record header. A store
     * with 4 KiB pages keeps the default. */
    "INSERT INTO messages_fts(messages_fts, rank) SELECT 'pgsz', 950"
    " FROM pragma_page_size WHERE page_size < 2048;"
    "INSERT INTO contacts_fts(contacts_fts, rank) SELECT 'pgsz', 950"
    " FROM pragma_page_size WHERE page_size < 2048;",
    /* 13 -> 14: messages are indexed for search once per transaction,
     * by store_commit(), instead of by a trigger per INSERT (FTS5 wrote
     * a segment per statement: bench/README.md "Findings" 1). The update
     * and delete triggers stay: they are rare and need the old body. */
    "DROP TRIGGER messages_fts_ai;",
    /* 14 -> 15: which part of how many a TP-MR row is, and its status
     * report's TP-ST (TS 23.040 9.2.3.15). Each part of a long SMS has
     * its own report; the message is delivered when every part's report
     * says so, not at the first one, which may come while the rest waits
     * to be sent again (its retry then never happened). */
    "ALTER TABLE sms_mr ADD COLUMN part INTEGER;"
    "ALTER TABLE sms_mr ADD COLUMN parts INTEGER;"
    "ALTER TABLE sms_mr ADD COLUMN tp_st INTEGER;",
    /* 15 -> 16: the auto-reply's look back (store_history) read every row
     * of the conversation, its body included, for each inbound message:
     * 28% of the daemon's CPU under signed webhooks, and more each year
     * for a resident who writes often. Replies are few; this index
     * answers for them without reading a message row (issue 17). */
    "CREATE INDEX messages_conv_out ON messages"
    "(conversation_id, at, author, kind, direction)"
    " WHERE direction = 'out';"
    /* A ticket is looked up without regard to case ("cek kls-2611-..."),
     * which the UNIQUE index (binary) cannot answer: each new ticket
     * and each CEK read every conversation (79 ms at 150,000). */
    "CREATE INDEX conversations_ticket_nocase ON conversations"
    "(ticket COLLATE NOCASE) WHERE ticket IS NOT NULL;"
    /* The messages stored by channel and direction (staff notices are
     * not on a channel), kept as they are written: /metrics and
     * `simpulctl status` counted them by reading every message, 1.5 s
     * with the loop held at a million. */
    "CREATE TABLE message_counts(channel TEXT NOT NULL,"
    " direction TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(channel, direction)) WITHOUT ROWID;"
    "INSERT INTO message_counts SELECT channel, direction, count(*)"
    " FROM messages WHERE kind != 'notice' GROUP BY 1, 2;"
    "CREATE TRIGGER message_counts_ai AFTER INSERT ON messages"
    " WHEN new.kind != 'notice' BEGIN"
    " INSERT INTO message_counts VALUES(new.channel, new.direction, 1)"
    " ON CONFLICT(channel, direction) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER message_counts_ad AFTER DELETE ON messages"
    " WHEN old.kind != 'notice' BEGIN"
    " UPDATE message_counts SET n = n - 1"
    " WHERE channel = old.channel AND direction = old.direction; END;"
    "CREATE TRIGGER message_counts_au AFTER UPDATE OF channel, direction,"
    " kind ON messages BEGIN"
    " UPDATE message_counts SET n = n - 1 WHERE old.kind != 'notice'"
    " AND channel = old.channel AND direction = old.direction;"
    " INSERT INTO message_counts SELECT new.channel, new.direction, 1"
    " WHERE new.kind != 'notice'"
    " ON CONFLICT(channel, direction) DO UPDATE SET n = n + 1; END;",
    /* 16 -> 17: the loop breaker's same-text count (store_history) read
     * the row of every inbound message of the window to compare its
     * body: a resident or a robot writing often made each message read
     * all the others, row by row at random places (17% of the daemon's
     * CPU under signed webhooks, most of it pread). A hash of the body,
     * written by the store at insert (a body never changes), now sits
     * in the conversation's index beside the direction: the rows with
     * another text are passed over in the index, and only the rows with
     * the same hash are read to compare their bodies. Rows written
     * before (or by other tools) have none and are compared as before. */
    "ALTER TABLE messages ADD COLUMN body_hash INTEGER;"
    "DROP INDEX messages_conv;"
    "CREATE INDEX messages_conv ON messages"
    "(conversation_id, at, direction, body_hash);",
    /* 17 -> 18: index pages written per message (issue 17: bytes per
     * SMS at a million messages). messages_queue held every outbound
     * message, and each step of a reply (sending, sent, delivered, read)
     * moved its entry from one status's run to another's: two pages per
     * step, ~6 of the ~57 pages an SMS with its reply wrote, for entries
     * no query reads. Only the statuses the queue asks for stay in it
     * (STORE_QUEUE_STATES in store_int.h, written the same way, so the
     * planner may use it). */
    "DROP INDEX messages_queue;"
    "CREATE INDEX messages_queue ON messages(channel, status, next_at)"
    " WHERE direction = 'out'"
    " AND status IN ('queued', 'sending', 'failed');",
    /* 18 -> 19: the search indexes are written in batches (issue 17:
     * bytes per SMS). Each commit that indexed its messages and its new
     * contact wrote an FTS5 segment of its own, with the index's
     * structure record, averages and doc sizes: ~7.4 of the ~52 pages an
     * SMS with its reply writes at a million messages, and pages that
     * the checkpoint copies again (91.9 -> 77.3 KB per SMS). Now a
     * message or a contact is indexed once STORE_FTS_BATCH rows wait,
     * or before a search reads the index (store_fts_flush), so search
     * still finds everything stored. counters holds the highest id
     * indexed of each table; every row at or below it is indexed, every
     * row above it is not. So the triggers change the index only for
     * indexed rows, and a delete of the newest rows lowers the mark to
     * the highest id left, so an id SQLite hands out again (max + 1) is
     * above it. Every row is indexed when this runs (schema 14-18 index
     * at each commit). */
    "INSERT OR REPLACE INTO counters(name, value)"
    " SELECT 'fts_messages', coalesce(max(id), 0) FROM messages;"
    "INSERT OR REPLACE INTO counters(name, value)"
    " SELECT 'fts_contacts', coalesce(max(id), 0) FROM contacts;"
    "DROP TRIGGER messages_fts_ad;"
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body)"
    " SELECT 'delete', old.id, old.body WHERE old.id <="
    " (SELECT value FROM counters WHERE name = 'fts_messages');"
    " UPDATE counters SET value = (SELECT coalesce(max(id), 0)"
    " FROM messages) WHERE name = 'fts_messages'"
    " AND value > (SELECT coalesce(max(id), 0) FROM messages); END;"
    "DROP TRIGGER messages_fts_au;"
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages"
    " WHEN old.id <= (SELECT value FROM counters"
    " WHERE name = 'fts_messages') BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body);"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
    " END;"
    "DROP TRIGGER contacts_fts_ai;"
    "DROP TRIGGER contacts_fts_au;"
    "CREATE TRIGGER contacts_fts_au AFTER UPDATE OF name, raw ON contacts"
    " WHEN new.id <= (SELECT value FROM counters"
    " WHERE name = 'fts_contacts') BEGIN"
    " DELETE FROM contacts_fts WHERE rowid = new.id;"
    " INSERT INTO contacts_fts(rowid, name, raw)"
    " SELECT id, name, raw FROM contacts WHERE id = new.id; END;"
    "DROP TRIGGER contacts_fts_ad;"
    "CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN"
    " DELETE FROM contacts_fts WHERE rowid = old.id;"
    " UPDATE counters SET value = (SELECT coalesce(max(id), 0)"
    " FROM contacts) WHERE name = 'fts_contacts'"
    " AND value > (SELECT coalesce(max(id), 0) FROM contacts); END;",
    /* 19 -> 20: a new resident wrote an entry into every index of
     * contacts, two of them for nothing: contacts_raw answers only for
     * senders known by their raw text (no number), contacts_kind only
     * which senders are not people. Each holds only those now (~2.5 of
     * the ~43 pages an SMS with its reply writes at a million messages).
     * The statements that seek them have the same WHERE term and name
     * the index (store_int.h), so a mismatch fails at prepare. */
    "DROP INDEX contacts_raw;"
    "CREATE INDEX contacts_raw ON contacts(raw) WHERE " STORE_RAW_ONLY ";"
    "DROP INDEX contacts_kind;"
    "CREATE INDEX contacts_kind ON contacts(kind)"
    " WHERE " STORE_NOT_PEOPLE ";",
    /* 20 -> 21: the inbox's revision (store_ui_rev) is counted by the
     * store's connection (an update hook, store.c) instead of by
     * triggers in a row of counters, whose page every commit wrote
     * again: ~3 of the ~40 pages an SMS with its reply writes. */
    "DROP TRIGGER ui_rev_msg_ins;"
    "DROP TRIGGER ui_rev_msg_upd;"
    "DROP TRIGGER ui_rev_conv;"
    "DROP TRIGGER ui_rev_conv_ins;"
    "DROP TRIGGER ui_rev_contact;"
    "DROP TRIGGER ui_rev_note;"
    "DROP TRIGGER ui_rev_rt;"
    "DROP TRIGGER ui_rev_call_back;"
    "DELETE FROM counters WHERE name = 'ui_rev';",
    /* 21 -> 22: message_counts is kept in the batches of the search
     * index (schema 19) instead of by a trigger per message, whose
     * page every inbound commit wrote (~1 of ~37 pages per SMS with its
     * reply at a million messages). It counts the messages at or below
     * the fts_messages mark; message_totals adds those above it. The
     * delete trigger of the index takes the count too, before it lowers
     * the mark (two triggers would run in an order SQLite does not
     * promise). */
    "DROP TRIGGER message_counts_ai;"
    "DROP TRIGGER message_counts_ad;"
    "DROP TRIGGER message_counts_au;"
    "CREATE TRIGGER message_counts_au AFTER UPDATE OF channel, direction,"
    " kind ON messages WHEN old.id <= (SELECT value FROM counters"
    " WHERE name = 'fts_messages') BEGIN"
    " UPDATE message_counts SET n = n - 1 WHERE old.kind != 'notice'"
    " AND channel = old.channel AND direction = old.direction;"
    " INSERT INTO message_counts SELECT new.channel, new.direction, 1"
    " WHERE new.kind != 'notice'"
    " ON CONFLICT(channel, direction) DO UPDATE SET n = n + 1; END;"
    "DROP TRIGGER messages_fts_ad;"
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages"
    " WHEN old.id <= (SELECT value FROM counters"
    " WHERE name = 'fts_messages') BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body);"
    " UPDATE message_counts SET n = n - 1 WHERE old.kind != 'notice'"
    " AND channel = old.channel AND direction = old.direction;"
    " UPDATE counters SET value = (SELECT coalesce(max(id), 0)"
    " FROM messages) WHERE name = 'fts_messages'"
    " AND value > (SELECT coalesce(max(id), 0) FROM messages); END;"
    "CREATE VIEW message_totals(channel, direction, n) AS"
    " SELECT channel, direction, sum(n) FROM (SELECT channel, direction, n"
    " FROM message_counts UNION ALL SELECT channel, direction, count(*)"
    " FROM messages WHERE id > (SELECT value FROM counters"
    " WHERE name = 'fts_messages') AND kind != 'notice' GROUP BY 1, 2)"
    " GROUP BY 1, 2;",
};

const int store_nmigrations =
    (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
