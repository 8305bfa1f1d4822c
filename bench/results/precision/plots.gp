set terminal svg size 720,440 dynamic font 'sans,12'
set key top left
set grid
set xlabel 'offered rate (requests/s)'
set logscale x
set format x '%.0s%c'
set output 'precision.svg'
set ylabel 'arrival − T3, mean (µs)'
plot 'prec-horod.dat' using 1:2 with linespoints title "horod (io uring, 1 worker)", 'prec-horod-stamp.dat' using 1:2 with linespoints title "horod (io uring, 1 worker), transmit times at egress (guard stamp on)", 'prec-horod-xleave.dat' using 1:2 with linespoints title "horod, interleaved clients (RFC 9769)", 'prec-horod-xdp.dat' using 1:2 with linespoints title "horod, answers in XDP (guard serve on)", 'prec-chronyd.dat' using 1:2 with linespoints title "chronyd 4.3 (-x)", 'prec-chronyd-xleave.dat' using 1:2 with linespoints title "chronyd 4.3 (-x), interleaved clients"
set output 'precision_min.svg'
set ylabel 'arrival − T3, minimum (µs; < 0: late)'
plot 0 with lines dashtype 2 lc rgb 'gray' notitle, 'prec-horod.dat' using 1:3 with linespoints title "horod (io uring, 1 worker)", 'prec-horod-stamp.dat' using 1:3 with linespoints title "horod (io uring, 1 worker), transmit times at egress (guard stamp on)", 'prec-horod-xleave.dat' using 1:3 with linespoints title "horod, interleaved clients (RFC 9769)", 'prec-horod-xdp.dat' using 1:3 with linespoints title "horod, answers in XDP (guard serve on)", 'prec-chronyd.dat' using 1:3 with linespoints title "chronyd 4.3 (-x)", 'prec-chronyd-xleave.dat' using 1:3 with linespoints title "chronyd 4.3 (-x), interleaved clients"
set output 'precision_sd.svg'
set ylabel 'arrival − T3, standard deviation (µs)'
plot 'prec-horod.dat' using 1:4 with linespoints title "horod (io uring, 1 worker)", 'prec-horod-stamp.dat' using 1:4 with linespoints title "horod (io uring, 1 worker), transmit times at egress (guard stamp on)", 'prec-horod-xleave.dat' using 1:4 with linespoints title "horod, interleaved clients (RFC 9769)", 'prec-horod-xdp.dat' using 1:4 with linespoints title "horod, answers in XDP (guard serve on)", 'prec-chronyd.dat' using 1:4 with linespoints title "chronyd 4.3 (-x)", 'prec-chronyd-xleave.dat' using 1:4 with linespoints title "chronyd 4.3 (-x), interleaved clients"
