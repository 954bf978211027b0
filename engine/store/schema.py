"""Schema migrations, applied in order and tracked with ``PRAGMA user_version``."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the event log and the materialized tables of FORWARD runs
    """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        scenario TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL,
        seed INTEGER NOT NULL,
        config_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        status_reason TEXT,
        planned_timepoints INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        wall_seconds REAL,
        entities INTEGER NOT NULL DEFAULT 0,
        timepoints INTEGER NOT NULL DEFAULT 0,
        dialog_turns INTEGER NOT NULL DEFAULT 0,
        exposure_events INTEGER NOT NULL DEFAULT 0,
        llm_calls INTEGER NOT NULL DEFAULT 0,
        failed_steps INTEGER NOT NULL DEFAULT 0,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        last_seq INTEGER NOT NULL DEFAULT 0,
        warnings_json TEXT NOT NULL DEFAULT '[]',
        scenario_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE events (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        sim_time TEXT,
        payload TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE branches (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        parent_branch_id TEXT,
        fork_timepoint_id TEXT,
        label TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (run_id, branch_id)
    );
    CREATE TABLE entities (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        entity_id TEXT NOT NULL,
        name TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        role TEXT NOT NULL,
        archetype TEXT,
        source TEXT NOT NULL,
        profile_json TEXT NOT NULL,
        PRIMARY KEY (run_id, entity_id)
    );
    CREATE TABLE entity_states (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        timepoint_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        resolution TEXT NOT NULL,
        context_json TEXT NOT NULL,
        biology_json TEXT NOT NULL,
        behavior_json TEXT NOT NULL,
        cognitive_json TEXT NOT NULL,
        cause TEXT NOT NULL,
        PRIMARY KEY (run_id, branch_id, entity_id, timepoint_id)
    );
    CREATE TABLE timepoints (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        timepoint_id TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        causal_parent TEXT,
        title TEXT NOT NULL,
        event_description TEXT NOT NULL,
        entities_present_json TEXT NOT NULL,
        importance REAL NOT NULL,
        tension REAL NOT NULL,
        status TEXT NOT NULL,
        issues_json TEXT NOT NULL DEFAULT '[]',
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, timepoint_id)
    );
    CREATE INDEX timepoints_order ON timepoints (run_id, branch_id, idx);
    CREATE TABLE causal_edges (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        edge_type TEXT NOT NULL,
        PRIMARY KEY (run_id, branch_id, source, target, edge_type)
    );
    CREATE TABLE dialogs (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        dialog_id TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        timepoint_id TEXT NOT NULL,
        participants_json TEXT NOT NULL,
        planned_turns INTEGER NOT NULL,
        turn_count INTEGER NOT NULL DEFAULT 0,
        failed_turns INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'running',
        PRIMARY KEY (run_id, dialog_id)
    );
    CREATE TABLE dialog_turns (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        dialog_id TEXT NOT NULL,
        turn_index INTEGER NOT NULL,
        timepoint_id TEXT NOT NULL,
        speaker TEXT NOT NULL,
        addressed_to TEXT,
        content TEXT NOT NULL,
        emotional_tone TEXT NOT NULL,
        stance TEXT NOT NULL,
        knowledge_refs_json TEXT NOT NULL,
        persona_json TEXT NOT NULL,
        physical_state_influence TEXT NOT NULL,
        status TEXT NOT NULL,
        issues_json TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, dialog_id, turn_index)
    );
    CREATE INDEX dialog_turns_by_timepoint ON dialog_turns (run_id, timepoint_id, seq);
    CREATE TABLE exposure_events (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        exposure_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        information TEXT NOT NULL,
        source TEXT,
        timestamp TEXT NOT NULL,
        confidence REAL NOT NULL,
        timepoint_id TEXT,
        dialog_id TEXT,
        turn_index INTEGER,
        category TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, exposure_id)
    );
    CREATE INDEX exposure_by_entity ON exposure_events (run_id, entity_id, seq);
    CREATE TABLE relationships (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        timepoint_id TEXT NOT NULL,
        trust REAL NOT NULL,
        alignment REAL NOT NULL,
        shared_json TEXT NOT NULL,
        interaction_count INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, branch_id, a, b, timepoint_id)
    );
    CREATE TABLE llm_calls (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        call_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        status TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        latency_ms REAL NOT NULL,
        request_hash TEXT NOT NULL,
        timepoint_id TEXT,
        error TEXT,
        PRIMARY KEY (run_id, call_id)
    );
    CREATE TABLE validations (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        validator TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        timepoint_id TEXT,
        dialog_id TEXT,
        turn_index INTEGER,
        valid INTEGER NOT NULL,
        violations_json TEXT NOT NULL,
        action TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    """,
    # 2: real models: cassettes (content-addressed answers), cached calls, budgets
    """
    ALTER TABLE llm_calls ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cached_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN budget_json TEXT;
    CREATE INDEX llm_calls_by_hash ON llm_calls (request_hash);
    CREATE TABLE cassette (
        request_hash TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        action TEXT NOT NULL,
        response_text TEXT NOT NULL,
        parsed_json TEXT,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        latency_ms REAL NOT NULL,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE cassette_runs (
        run_id TEXT PRIMARY KEY,
        descriptor_json TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    """,
    # 3: questions people put to entities about a moment of a run, and the answers
    """
    CREATE TABLE queries (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        query_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        timepoint_id TEXT,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        knowledge_refs_json TEXT NOT NULL,
        violations_json TEXT NOT NULL,
        emotional_tone TEXT NOT NULL,
        confidence REAL NOT NULL,
        status TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        asked_at TEXT NOT NULL,
        PRIMARY KEY (run_id, query_id)
    );
    CREATE INDEX queries_by_timepoint ON queries (run_id, timepoint_id);
    """,
    # 4: the scene of each timepoint (M10) and each character's inner life after a dialog (M15)
    """
    CREATE TABLE scenes (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        timepoint_id TEXT NOT NULL,
        scene_json TEXT NOT NULL,
        after_json TEXT,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, timepoint_id)
    );
    CREATE TABLE inner_lives (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        entity_id TEXT NOT NULL,
        timepoint_id TEXT NOT NULL,
        inner_json TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, entity_id, timepoint_id)
    );
    """,
    # 5: the one run fold's counters (totals and what was spent), branches on every table a
    # branch can diverge in, queries as events, and the processes writing live runs
    """
    ALTER TABLE runs RENAME COLUMN tokens_in TO prompt_tokens;
    ALTER TABLE runs RENAME COLUMN tokens_out TO completion_tokens;
    ALTER TABLE runs ADD COLUMN spent_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN spent_usd REAL NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
    UPDATE runs SET spent_tokens = prompt_tokens + completion_tokens, spent_usd = cost_usd;
    UPDATE runs SET
        prompt_tokens = COALESCE((SELECT SUM(l.prompt_tokens) FROM llm_calls l
                                  WHERE l.run_id = runs.run_id), 0),
        completion_tokens = COALESCE((SELECT SUM(l.completion_tokens) FROM llm_calls l
                                      WHERE l.run_id = runs.run_id), 0),
        cost_usd = COALESCE((SELECT SUM(l.cost_usd) FROM llm_calls l
                             WHERE l.run_id = runs.run_id), 0),
        queries = (SELECT COUNT(*) FROM queries q WHERE q.run_id = runs.run_id);
    ALTER TABLE exposure_events ADD COLUMN branch_id TEXT NOT NULL DEFAULT 'main';
    ALTER TABLE dialog_turns ADD COLUMN branch_id TEXT NOT NULL DEFAULT 'main';
    ALTER TABLE scenes ADD COLUMN branch_id TEXT NOT NULL DEFAULT 'main';
    ALTER TABLE inner_lives ADD COLUMN branch_id TEXT NOT NULL DEFAULT 'main';
    ALTER TABLE branches ADD COLUMN intervention_json TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE branches ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE queries ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE queries ADD COLUMN branch_id TEXT NOT NULL DEFAULT 'main';
    CREATE INDEX inner_lives_by_entity ON inner_lives (run_id, entity_id, seq);
    CREATE TABLE live_runs (
        -- no foreign key: the writer is recorded before the run's first event creates its row
        run_id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        since TEXT NOT NULL
    );
    """,
    # 6: a fork's outcome on its branch row (M12)
    """
    ALTER TABLE branches ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
    ALTER TABLE branches ADD COLUMN status_reason TEXT;
    ALTER TABLE branches ADD COLUMN finished_at TEXT;
    ALTER TABLE branches ADD COLUMN wall_seconds REAL;
    """,
    # 7: a branch's outcome score and its components (M12)
    """
    ALTER TABLE branches ADD COLUMN score REAL;
    ALTER TABLE branches ADD COLUMN score_json TEXT;
    """,
    # 8: fidelity (M1, M5, M6): each entity's level per timepoint and why, and the entity a
    # call was made for, so that what each (entity, timepoint) cost can be read
    """
    ALTER TABLE llm_calls ADD COLUMN entity_id TEXT;
    CREATE TABLE fidelity (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        timepoint_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        level TEXT NOT NULL,
        reason TEXT NOT NULL,
        cause TEXT NOT NULL,
        query_id TEXT,
        seq INTEGER NOT NULL
    );
    CREATE INDEX fidelity_by_run ON fidelity (run_id, seq);
    CREATE INDEX llm_calls_by_entity ON llm_calls (run_id, entity_id, timepoint_id);
    """,
    # 9: a PORTAL search (M17): its settings, every candidate with its score and whether the
    # beam kept it, every judged path (the kept ones with their rank and branch), the
    # divergence by position, the pivots and the calls that failed
    """
    CREATE TABLE portal_searches (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        endpoint TEXT NOT NULL,
        steps INTEGER NOT NULL,
        strategy TEXT NOT NULL,
        candidates_per_step INTEGER NOT NULL,
        beam INTEGER NOT NULL,
        path_count INTEGER NOT NULL,
        coherence_threshold REAL NOT NULL,
        max_backtrack_depth INTEGER NOT NULL,
        weights_json TEXT NOT NULL,
        slot_times_json TEXT NOT NULL,
        not_supported_json TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE portal_candidates (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        candidate_id TEXT NOT NULL,
        slot INTEGER NOT NULL,
        later_id TEXT,
        earlier_id TEXT,
        when_at TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        key_events_json TEXT NOT NULL,
        entity_changes_json TEXT NOT NULL,
        world_context TEXT NOT NULL,
        causal_link TEXT NOT NULL,
        entities_present_json TEXT NOT NULL,
        source TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        scored INTEGER NOT NULL DEFAULT 0,
        score REAL,
        components_json TEXT NOT NULL DEFAULT '{}',
        missing_json TEXT NOT NULL DEFAULT '{}',
        weights_json TEXT NOT NULL DEFAULT '{}',
        score_reason TEXT NOT NULL DEFAULT '',
        beam TEXT NOT NULL DEFAULT 'proposed',
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, candidate_id)
    );
    CREATE INDEX portal_candidates_by_slot ON portal_candidates (run_id, slot, seq);
    CREATE TABLE portal_paths (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        path_id TEXT NOT NULL,
        candidate_ids_json TEXT NOT NULL,
        links_json TEXT NOT NULL,
        coherence REAL,
        action TEXT NOT NULL,
        at_slot INTEGER,
        reason TEXT NOT NULL,
        backtracks INTEGER NOT NULL,
        judge TEXT NOT NULL,
        kept INTEGER NOT NULL DEFAULT 0,
        rank INTEGER,
        branch_id TEXT,
        cluster INTEGER,
        warning TEXT,
        score REAL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX portal_paths_by_id ON portal_paths (run_id, path_id, seq);
    CREATE TABLE portal_divergence (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        value REAL NOT NULL,
        is_key INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    CREATE TABLE portal_pivots (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        branch_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        path_id TEXT NOT NULL,
        slot INTEGER NOT NULL,
        candidate_id TEXT NOT NULL,
        strength REAL NOT NULL,
        reasons_json TEXT NOT NULL,
        sentence TEXT NOT NULL,
        ord INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, branch_id, position)
    );
    CREATE TABLE portal_failures (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        stage TEXT NOT NULL,
        slot INTEGER,
        later_id TEXT,
        candidate_id TEXT,
        error TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    """,
    # 10: convergence sets: runs of one scenario compared by their causal graphs (the result,
    # with its consensus, contested edges and divergence points, as JSON) and their member runs
    """
    CREATE TABLE convergence_sets (
        set_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        scenario TEXT NOT NULL,
        run_count INTEGER NOT NULL,
        score REAL NOT NULL,
        grade TEXT NOT NULL,
        result_json TEXT NOT NULL
    );
    CREATE TABLE convergence_runs (
        set_id TEXT NOT NULL REFERENCES convergence_sets(set_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        seed INTEGER NOT NULL,
        PRIMARY KEY (set_id, position)
    );
    CREATE INDEX convergence_runs_by_run ON convergence_runs (run_id);
    """,
    # 11: what observers looked up in the record (/who-knows, /why): the observer ledger
    """
    CREATE TABLE lookups (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        query_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        phrase TEXT NOT NULL,
        entity_id TEXT,
        timepoint_id TEXT,
        branch_id TEXT NOT NULL,
        found_json TEXT NOT NULL,
        summary TEXT NOT NULL,
        asked_at TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run_id, query_id)
    );
    """,
    # 12: a run's rows in the order they happened, for the tables a whole run is read from.
    # Without these, reading a run sorted every table by seq in a temporary tree after
    # fetching its rows in primary-key order, scattered over the file: a third of the time
    # a 100,000-turn run took to load
    """
    CREATE INDEX exposure_events_by_seq ON exposure_events (run_id, seq);
    CREATE INDEX entity_states_by_seq ON entity_states (run_id, seq);
    CREATE INDEX relationships_by_seq ON relationships (run_id, seq);
    CREATE INDEX inner_lives_by_seq ON inner_lives (run_id, seq);
    CREATE INDEX dialog_turns_by_seq ON dialog_turns (run_id, seq);
    CREATE INDEX timepoints_by_seq ON timepoints (run_id, seq);
    CREATE INDEX scenes_by_seq ON scenes (run_id, seq);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
