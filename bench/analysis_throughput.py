"""Bulk-analysis throughput: 200 URLs from a local server that answers each after 50 ms.

Runs the real job (run_bulk_analysis_task: guarded fetch, trafilatura, local analysis, upsert
on Article) with max_concurrent 1, 3 and 10 and prints items/s beside the ideal
(concurrency / latency). Target: >= 80 % of the ideal at 3 and 10.
The pages come from a separate process, so serving them costs the job's process nothing.

Run: .venv/bin/python bench/analysis_throughput.py [--urls 200] [--latency 0.05] [--concurrency 1 3 10]
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PARAGRAPHS = [
    "Solar power capacity across the region doubled last year, according to a new report from the national "
    "energy agency, as falling panel prices and generous incentives drew record investment.",
    "Installers connected more than twelve gigawatts of new solar panels to the grid, enough to supply power "
    "to roughly three million homes. The agency said the growth was the fastest it has ever recorded.",
    "Analysts credit the surge to a steep drop in the price of photovoltaic modules, which fell by almost "
    "forty percent in eighteen months. Cheaper panels have made rooftop solar attractive for households.",
    "Battery storage is growing alongside the panels. Utilities are pairing solar farms with large batteries "
    "so that clean energy produced at noon can power homes after sunset, easing pressure on the grid.",
    "Grid operators warn that transmission lines must expand quickly to keep up. Several projects have waited "
    "more than two years for a connection, and the agency urged lawmakers to simplify permits.",
]


def page(n: int) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<!doctype html><html><head><title>Story {n}: solar capacity doubles</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>Story {n}: solar capacity doubles</h1>{body}</article>"
            f"<footer>Copyright</footer></body></html>").encode()


def serve(port_queue, latency: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)

        def do_GET(self):
            time.sleep(latency)
            body = page(int(self.path.strip("/").split(".")[0] or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def setup_django(port: int, db_path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statusmsg.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["STATUSMSG_FETCH_ALLOW_HOSTS"] = f"127.0.0.1:{port}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()

    port_queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(port_queue, args.latency), daemon=True)
    server.start()
    port = port_queue.get(timeout=10)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(port, os.path.join(tmp, "bench.sqlite3"))
        from articles.analysis import run_bulk_analysis_task

        urls = [f"http://127.0.0.1:{port}/{n}.html" for n in range(args.urls)]
        run_bulk_analysis_task(urls[:5], topic="solar", force=True, max_concurrent=5)  # warm up imports
        print(f"{args.urls} URLs, {args.latency * 1000:.0f} ms latency each, full job with SQLite upserts")
        print(f"{'max_concurrent':>14} {'seconds':>8} {'items/s':>8} {'ideal':>7} {'% ideal':>8} "
              f"{'CPU ms/item':>12} {'CPU ceiling/s':>14}  analyzed/failed")
        for concurrency in args.concurrency:
            cpu_began = time.process_time()
            began = time.perf_counter()
            result = run_bulk_analysis_task(urls, topic="solar", force=True, max_concurrent=concurrency,
                                            max_queue_size=100)
            seconds = time.perf_counter() - began
            # The job's threads share one interpreter lock: CPU per item caps items/s.
            cpu_per_item = (time.process_time() - cpu_began) / args.urls
            rate = args.urls / seconds
            ideal = concurrency / args.latency
            print(f"{concurrency:>14} {seconds:>8.2f} {rate:>8.1f} {ideal:>7.1f} {100 * rate / ideal:>7.1f}% "
                  f"{cpu_per_item * 1000:>12.2f} {1 / cpu_per_item:>14.0f}  {result['analyzed']}/{result['failed']}")
        # Reference: the same queue with the guarded fetch alone (no extraction, analysis or
        # database), to tell the queue's own overhead from the analysis CPU.
        from articles.analysis_queue import AnalysisQueue
        from articles.fetching import Fetcher

        print("\nreference: AnalysisQueue + guarded fetch only")
        with Fetcher() as fetcher:
            for concurrency in args.concurrency:
                began = time.perf_counter()
                outcomes = list(AnalysisQueue(lambda url, deadline: fetcher.fetch(url, deadline=deadline),
                                              max_concurrent=concurrency, max_queue_size=100).run(urls))
                rate = args.urls / (time.perf_counter() - began)
                ideal = concurrency / args.latency
                print(f"{concurrency:>14} {'':>8} {rate:>8.1f} {ideal:>7.1f} {100 * rate / ideal:>7.1f}%"
                      f"  ok={sum(o.ok for o in outcomes)}")
    server.terminate()


if __name__ == "__main__":
    main()
