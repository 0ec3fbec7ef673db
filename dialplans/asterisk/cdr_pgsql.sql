-- The CDR table voicebot reads (cdr.url): Asterisk's cdr_pgsql writes one row per call leg.
-- Times are epoch seconds with microseconds (cdr_pgsql writes float8 columns named start,
-- answer and end that way), so no time zone is ever guessed. Run it once in the CDR database,
-- before Asterisk loads cdr_pgsql (the module reads the columns at load).
CREATE TABLE IF NOT EXISTS cdr (
    start        double precision NOT NULL DEFAULT 0,
    answer       double precision NOT NULL DEFAULT 0,  -- 0: never answered
    "end"        double precision NOT NULL DEFAULT 0,
    duration     double precision NOT NULL DEFAULT 0,
    billsec      double precision NOT NULL DEFAULT 0,
    disposition  varchar(45)  NOT NULL DEFAULT '',     -- ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION
    clid         varchar(80)  NOT NULL DEFAULT '',
    src          varchar(80)  NOT NULL DEFAULT '',
    dst          varchar(80)  NOT NULL DEFAULT '',
    dcontext     varchar(80)  NOT NULL DEFAULT '',
    channel      varchar(80)  NOT NULL DEFAULT '',
    dstchannel   varchar(80)  NOT NULL DEFAULT '',
    lastapp      varchar(80)  NOT NULL DEFAULT '',
    lastdata     varchar(80)  NOT NULL DEFAULT '',
    amaflags     integer      NOT NULL DEFAULT 0,
    accountcode  varchar(20)  NOT NULL DEFAULT '',
    uniqueid     varchar(150) NOT NULL DEFAULT '',     -- voicebot's call id on the call's first leg
    linkedid     varchar(150) NOT NULL DEFAULT '',
    userfield    varchar(255) NOT NULL DEFAULT '',
    peeraccount  varchar(20)  NOT NULL DEFAULT '',
    sequence     integer      NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cdr_uniqueid ON cdr (uniqueid);
CREATE INDEX IF NOT EXISTS cdr_linkedid ON cdr (linkedid);
