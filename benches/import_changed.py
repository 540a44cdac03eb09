# python3 benches/import_changed.py target/bench-data
#
# Writes FILE.changed beside the generated 10,000-talk .ics, .json, .xml and .txt (cargo bench
# --bench import writes those): the same programme with 100 talks (1 %) retitled (the talk
# listing: 100 descriptions rewritten, since a listing's title is what it is matched by), for
# the third step of benches/import_cli.sh, an organiser's next export. Line endings are kept.
import re, sys
d = sys.argv[1]
N = 100
def change(path, pattern, repl):
    text = open(path, encoding='utf-8', newline='').read()
    count = [0]
    def sub(m):
        if count[0] >= N:
            return m.group(0)
        count[0] += 1
        return repl(m)
    out = re.sub(pattern, sub, text)
    assert count[0] == N, (path, count[0])
    open(path + '.changed', 'w', encoding='utf-8', newline='').write(out)
change(f'{d}/schedule-10000.ics', r'(?m)^SUMMARY:', lambda m: 'SUMMARY:Updated: ')
change(f'{d}/schedule-10000.json', r'"title": "', lambda m: '"title": "Updated: ')
change(f'{d}/schedule-10000.xml', r'<title>(?!BenchConf)', lambda m: '<title>Updated: ')
change(f'{d}/schedule-10000.txt', r'(?m)^Description: ', lambda m: 'Description: Updated: ')
