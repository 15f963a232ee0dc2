#!/usr/bin/env python3
"""The longest functions (ARCHITECTURE.md, "Figures"):
    python3 scripts/longest_functions.py            # src/ and crates/, the 10 longest
    python3 scripts/longest_functions.py tests 20   # the tests, the 20 longest
Each `fn` is counted from its line to its closing brace, by brace depth outside string and
char literals and comments. The last line counts the functions over 80 lines."""
import glob, os, re, sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
def strip(line, state):
    out=[]; i=0; n=len(line)
    while i<n:
        c=line[i]
        if state['raw'] is not None:
            end='"'+'#'*state['raw']
            j=line.find(end,i)
            if j<0: return ''.join(out)
            i=j+len(end); state['raw']=None; continue
        if state['str']:
            if c=='\\': i+=2; continue
            if c=='"': state['str']=False
            i+=1; continue
        if line.startswith('//',i): break
        m=re.match(r'r(#*)"',line[i:])
        if m and (i==0 or not (line[i-1].isalnum() or line[i-1]=='_')):
            state['raw']=len(m.group(1)); i+=len(m.group(0)); continue
        if c=='"': state['str']=True; i+=1; continue
        m=re.match(r"'(\\.|[^\\'])'",line[i:])
        if m: i+=len(m.group(0)); continue
        out.append(c); i+=1
    return ''.join(out)
dirs = [sys.argv[1]] if len(sys.argv) > 1 else ['src', 'crates']
most = int(sys.argv[2]) if len(sys.argv) > 2 else 10
res=[]
for f in [f for d in dirs for f in glob.glob(d+'/**/*.rs', recursive=True)]:
    lines=open(f).read().split('\n')
    state={'str':False,'raw':None}
    clean=[strip(l,state) for l in lines]
    for i,l in enumerate(clean):
        m=re.match(r'\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)', l)
        if not m: continue
        depth=0; started=False; j=i
        while j<len(clean):
            for c in clean[j]:
                if c=='{': depth+=1; started=True
                elif c=='}': depth-=1
            if started and depth==0: break
            if not started and clean[j].rstrip().endswith(';'): break
            j+=1
        if started: res.append((j-i+1, f, m.group(6), i+1))
res.sort(reverse=True)
for r in res[:most]: print(*r)
print('over 80:', sum(1 for r in res if r[0]>80))
