set terminal svg size 720,440 dynamic font 'sans,12'
set key top left
set grid
set xlabel 'offered rate (requests/s)'
set format x '%.0s%c'
set output 'answered.svg'
set ylabel 'valid replies/s'
set format y '%.0s%c'
plot x with lines dashtype 2 lc rgb 'gray' title 'offered', 'steps-horod.dat' using 1:2 with linespoints title "horod (io uring, 1 worker)", 'steps-horod-xdp.dat' using 1:2 with linespoints title "horod, answers in XDP (guard serve on)", 'steps-horod-2w.dat' using 1:2 with linespoints title "horod (2 workers on both CPUs, shared with the load)", 'steps-chronyd.dat' using 1:2 with linespoints title "chronyd 4.3 (-x)", 'steps-ntpd.dat' using 1:2 with linespoints title "ntpsec ntpd 1.2.2", 'steps-floor.dat' using 1:2 with linespoints title "floor (recvmmsg/sendmmsg responder)"
set output 'rtt_p99.svg'
set ylabel 'RTT p99 (µs)'
set logscale y
set format y '%g'
plot 'steps-horod.dat' using 1:3 with linespoints title "horod (io uring, 1 worker)", 'steps-horod-xdp.dat' using 1:3 with linespoints title "horod, answers in XDP (guard serve on)", 'steps-horod-2w.dat' using 1:3 with linespoints title "horod (2 workers on both CPUs, shared with the load)", 'steps-chronyd.dat' using 1:3 with linespoints title "chronyd 4.3 (-x)", 'steps-ntpd.dat' using 1:3 with linespoints title "ntpsec ntpd 1.2.2", 'steps-floor.dat' using 1:3 with linespoints title "floor (recvmmsg/sendmmsg responder)"
