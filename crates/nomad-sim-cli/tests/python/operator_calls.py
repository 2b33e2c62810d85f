"""An operator's calls against `nomad-sim serve`, made with python-nomad as against a real cluster.

Usage: python operator_calls.py NOMAD_SIM_BINARY SCENARIO.yaml

Starts `nomad-sim serve SCENARIO --addr 127.0.0.1:0 --paused`, reads the address it prints,
runs the checks, stops the server and prints "N passed, M failed" (exit 1 on any failure).
Every request has a timeout, so the script ends on its own.
"""

import json
import subprocess
import sys
import threading
import time

import nomad
import requests

TIMEOUT = 30
results = {"passed": 0, "failed": 0}


def check(name, fn):
    """Runs one named check and counts it."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, whatever it is
        results["failed"] += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")
    else:
        results["passed"] += 1
        print(f"ok   {name}")


def start(binary, scenario):
    proc = subprocess.Popen(
        [binary, "serve", scenario, "--addr", "127.0.0.1:0", "--paused"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    box = {}

    def read_line():
        box["line"] = proc.stdout.readline()

    t = threading.Thread(target=read_line, daemon=True)
    t.start()
    t.join(60)
    line = box.get("line", "")
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r} {proc.stderr.read()!r}")
    addr = line.split("http://", 1)[1].split()[0]
    return proc, addr


def batch_job(job_id, cpu, run_for):
    return {
        "Job": {
            "ID": job_id,
            "Type": "batch",
            "Datacenters": ["dc1"],
            "TaskGroups": [
                {
                    "Name": "build",
                    "Count": 1,
                    "Tasks": [
                        {
                            "Name": "agent",
                            "Driver": "mock_driver",
                            "Config": {"run_for": run_for},
                            "Resources": {"CPU": cpu, "MemoryMB": 256},
                        }
                    ],
                }
            ],
        }
    }


def main():
    binary, scenario = sys.argv[1], sys.argv[2]
    proc, addr = start(binary, scenario)
    host, port = addr.rsplit(":", 1)
    base = f"http://{addr}"
    n = nomad.Nomad(host=host, port=int(port), timeout=TIMEOUT)

    def advance(by):
        r = requests.post(f"{base}/v1/sim/advance", json={"By": by}, timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()

    def node_named(name):
        return next(x for x in n.nodes.get_nodes() if x["Name"] == name)

    try:
        advance("7m")

        def nodes():
            listed = n.nodes.get_nodes()
            assert len(listed) == 2, listed
            assert {x["Status"] for x in listed} == {"ready"}
            detail = n.node.get_node(listed[0]["ID"])
            assert detail["NodeResources"]["Cpu"]["CpuShares"] == 4000
            assert detail["ReservedResources"]["Memory"]["MemoryMB"] == 1024
            with_res = n.nodes.get_nodes(resources=True)
            assert "NodeResources" in with_res[0]

        check("list and read nodes", nodes)

        def jobs():
            listed = n.jobs.get_jobs()
            statuses = {j["ID"]: j["Status"] for j in listed}
            assert statuses["waits-0"] == "pending", statuses
            assert "waits-0" in n.jobs
            job = n.job.get_job("waits-0")
            assert job["TaskGroups"][0]["Name"] == "waits"
            summary = n.job.get_summary("waits-0")
            assert summary["Summary"]["waits"]["Queued"] == 1

        check("list and read jobs; a pending job", jobs)

        def why_pending():
            evals = n.job.get_evaluations("waits-0")
            blocked = [e for e in evals if e["Status"] == "blocked"]
            assert blocked, evals
            failed = blocked[0]["FailedTGAllocs"]["waits"]
            assert failed["NodesExhausted"] >= 1, failed
            assert failed["DimensionExhausted"], failed
            again = n.evaluation.get_evaluation(blocked[0]["ID"])
            assert again["JobID"] == "waits-0"
            assert any(e["ID"] == again["ID"] for e in n.evaluations.get_evaluations())

        check("find why a job is pending (blocked eval, failed placements)", why_pending)

        def allocations():
            allocs = n.allocations.get_allocations()
            assert allocs, allocs
            running = [a for a in allocs if a["ClientStatus"] == "running"]
            detail = n.allocation.get_allocation(running[0]["ID"])
            assert detail["Job"]["ID"] == running[0]["JobID"]
            task = next(iter(detail["TaskStates"].values()))
            assert task["State"] == "running"
            assert detail["Metrics"]["NodesEvaluated"] >= 1
            assert n.job.get_allocations("long-0")[0]["JobID"] == "long-0"

        check("list and read allocations", allocations)

        def plan_and_register():
            plan = n.job.plan_job("py-build", batch_job("py-build", 300, "2m"), diff=True)
            assert plan["Annotations"]["DesiredTGUpdates"]["build"]["Place"] == 1, plan
            assert plan["FailedTGAllocs"] is None, plan
            big = n.job.plan_job("py-huge", batch_job("py-huge", 100000, "2m"))
            assert big["FailedTGAllocs"]["build"]["NodesExhausted"] >= 1, big
            assert "py-build" not in n.jobs, "a plan changes nothing"
            r = n.jobs.register_job(batch_job("py-build", 300, "2m"))
            assert len(r["EvalID"]) == 36, r
            assert n.job.get_job("py-build")["Status"] == "running"
            advance("2m")
            assert n.job.get_job("py-build")["Status"] == "dead"
            assert n.job.get_allocations("py-build")[0]["ClientStatus"] == "complete"

        check("plan and register a job, advance time, it completes", plan_and_register)

        def drain():
            node = node_named("linux-0")
            node_id = node["ID"]
            r = n.node.drain_node_with_spec(
                node_id, {"Deadline": 600 * 10**9, "IgnoreSystemJobs": False}, mark_eligible=False
            )
            assert r["NodeModifyIndex"] > 0, r
            d = n.node.get_node(node_id)
            assert d["Drain"] is True and d["DrainStrategy"]["Deadline"] == 600 * 10**9, d
            assert d["SchedulingEligibility"] == "ineligible"
            # Follow it to the end, a minute at a time, as `nomad node drain` would watch it.
            for _ in range(30):
                if n.node.get_node(node_id)["DrainStrategy"] is None:
                    break
                advance("1m")
            d = n.node.get_node(node_id)
            assert d["DrainStrategy"] is None and d["Drain"] is False, d
            assert d["LastDrain"]["Status"] == "complete", d["LastDrain"]
            live = [a for a in n.node.get_allocations(node_id) if a["ClientStatus"] in ("pending", "running")]
            assert not live, live
            n.node.eligible_node(node_id, eligible=True)
            assert n.node.get_node(node_id)["SchedulingEligibility"] == "eligible"

        check("drain a node with a deadline and follow it to the end", drain)

        def blocking_query():
            r = requests.get(f"{base}/v1/jobs", timeout=TIMEOUT)
            index = int(r.headers["X-Nomad-Index"])
            box = {}

            def wait():
                t = time.monotonic()
                w = requests.get(f"{base}/v1/jobs", params={"index": index, "wait": "60s"}, timeout=TIMEOUT * 3)
                box["index"] = int(w.headers["X-Nomad-Index"])
                box["took"] = time.monotonic() - t

            t = threading.Thread(target=wait)
            t.start()
            time.sleep(0.3)
            advance("1m")
            t.join(TIMEOUT)
            assert box.get("index", 0) > index, box
            assert 0.2 < box["took"] < TIMEOUT, box

        check("a blocking query returns on a state change", blocking_query)

        def bad_requests():
            r = requests.post(f"{base}/v1/jobs", data="{not json", timeout=TIMEOUT)
            assert r.status_code == 400, r.text
            try:
                n.job.get_job("no-such-job")
            except nomad.api.exceptions.URLNotFoundNomadException:
                pass
            else:
                raise AssertionError("an unknown job is a 404")
            assert "no-such-job" not in n.jobs
            r = requests.post(f"{base}/v1/jobs", data="x" * (2 << 20), timeout=TIMEOUT)
            assert r.status_code == 413, r.status_code
            try:
                n.jobs.register_job({"Job": {"ID": "bad", "TaskGroups": [{"Name": "g", "Count": -1}]}})
            except nomad.api.exceptions.BadRequestNomadException:
                pass
            else:
                raise AssertionError("a negative count is a 400")

        check("bad requests are answered 400, 404 and 413", bad_requests)

        def status_and_agent():
            assert n.status.leader.get_leader() == "127.0.0.1:4647"
            agent = n.agent.get_agent()
            assert agent["stats"]["client"]["node_id"]
            clock = requests.get(f"{base}/v1/sim/clock", timeout=TIMEOUT).json()
            assert clock["Paused"] is True and clock["NowMs"] > 0, clock

        check("status, agent and the simulated clock", status_and_agent)
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)

    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
